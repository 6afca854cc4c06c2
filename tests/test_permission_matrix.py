"""Who may do what: every route, method and role, and the status each gets.

The table must name every non-public route: a new route without a row fails
``test_every_route_is_public_or_in_the_matrix``. Team roles (marketing, UX, ops) join the
table with the features that need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from apps.photos.models import Comment
from tests.factories import PhotoFactory, UserFactory

pytestmark = pytest.mark.django_db

# Routes anyone may GET (or, for the token endpoint and logout, POST): pages and API reads.
PUBLIC = {
    "home", "healthz", "readyz", "rendition-file", "schema", "api-docs",
    "accounts:signup", "accounts:login", "accounts:logout", "accounts:password-reset",
    "accounts:password-reset-sent", "accounts:password-reset-confirm",
    "accounts:password-reset-complete", "accounts:profile",
    "photos:explore", "photos:detail", "photos:tag", "photos:search",
    "api:auth-token", "api:user-search", "api:user-detail", "api:photo-list", "api:photo-detail",
    "api:photo-comments", "api:explore", "api:tag-search",
}  # fmt: skip


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    expected: dict[str, int]  # role -> status
    data: dict | None = None


# Roles: anonymous, user (signed in, a stranger to the object), owner (of the photo),
# author (of the comment, not the photo's owner).
MATRIX = [
    Row("accounts:password-change", "get", {"anonymous": 302, "user": 200}),
    Row("accounts:password-change-done", "get", {"anonymous": 302, "user": 200}),
    Row("accounts:settings", "get", {"anonymous": 302, "user": 200}),
    Row("accounts:follow", "post", {"anonymous": 302, "user": 302}),
    Row("photos:upload", "get", {"anonymous": 302, "user": 200}),
    Row("photos:like", "post", {"anonymous": 302, "user": 302}),
    Row("photos:comment", "post", {"anonymous": 302, "user": 302}, {"text": "hi"}),
    Row("api:me", "get", {"anonymous": 401, "user": 200}),
    Row("api:me", "patch", {"anonymous": 401, "user": 200}, {"bio": "hello"}),
    Row("api:user-follow", "put", {"anonymous": 401, "user": 200}),
    Row("api:user-follow", "delete", {"anonymous": 401, "user": 200}),
    Row("api:photo-list", "post", {"anonymous": 401, "user": 400}),
    Row(
        "api:photo-detail", "patch", {"anonymous": 401, "user": 403, "owner": 200}, {"caption": "x"}
    ),
    Row("api:photo-detail", "delete", {"anonymous": 401, "user": 403, "owner": 204}),
    Row("api:photo-like", "put", {"anonymous": 401, "user": 200}),
    Row("api:photo-like", "delete", {"anonymous": 401, "user": 200}),
    Row("api:photo-comments", "post", {"anonymous": 401, "user": 201}, {"text": "hi"}),
    Row(
        "api:comment-detail", "delete", {"anonymous": 401, "user": 403, "author": 204, "owner": 204}
    ),
    Row("api:feed", "get", {"anonymous": 401, "user": 200}),
]


def route_names(patterns=None, namespace: str = "") -> Iterator[str]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # the admin checks staff and model permissions itself
            inner = f"{namespace}:{pattern.namespace}" if namespace else (pattern.namespace or "")
            yield from route_names(pattern.url_patterns, inner if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_route_is_public_or_in_the_matrix():
    covered = PUBLIC | {row.route for row in MATRIX}
    missing = sorted(set(route_names()) - covered)
    assert missing == [], f"routes with no row in the permission matrix: {missing}"


def url_for(route: str, photo, comment) -> str:
    kwargs = {
        "accounts:follow": {"username": photo.owner.username},
        "api:user-follow": {"username": photo.owner.username},
        "api:comment-detail": {"comment_id": comment.pk},
    }.get(route)
    if (
        kwargs is None
        and route != "api:photo-list"
        and route.startswith(("photos:like", "photos:comment", "api:photo-"))
    ):
        kwargs = {"photo_id": photo.pk}
    return reverse(route, kwargs=kwargs)


CASES = [(row, role) for row in MATRIX for role in row.expected]


@pytest.mark.parametrize(
    ("row", "role"), CASES, ids=[f"{r.route}-{r.method}-{role}" for r, role in CASES]
)
def test_permission(row: Row, role: str):
    photo = PhotoFactory()
    author = UserFactory()
    comment = Comment.objects.create(photo=photo, author=author, text="nice")
    client = APIClient()
    actor = {"anonymous": None, "user": UserFactory(), "owner": photo.owner, "author": author}[role]
    if actor is not None:
        client.force_login(actor)
    url = url_for(row.route, photo, comment)
    response = getattr(client, row.method)(
        url, row.data, format="json" if row.route.startswith("api:") else None
    )
    assert response.status_code == row.expected[role]
    if response.status_code == 302 and role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")
