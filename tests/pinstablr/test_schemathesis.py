"""Property-based tests of the REST API against its own OpenAPI schema (schemathesis).

The schema is loaded in-process from ``/api/schema/`` and every operation is called through
the WSGI application with generated inputs, valid and invalid, once anonymously and once with
a seeded user's API token. Whatever the input, the API must never answer 5xx, and every
answer must be one the schema documents: its status code, content type and body.

Generation is steered towards the data that exists, so requests reach real rows and not
only 404s: path parameters are sometimes a seeded photo's or comment's id or a seeded user
name, the token endpoint sometimes gets real credentials, the user and tag searches get a
``q`` (a seeded name's first letters, or any text), and list cursors are sometimes forged
(well-formed base64 around an arbitrary position) as a client may send them.

The upload operation (POST /api/v1/photos/) is generated like the others: it stays fast,
because the schema gives ``image`` as a string, so no generated request carries a file and
each is refused before any image work.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.models import Follow
from apps.accounts.services import api_token_create
from apps.photos.models import Photo
from apps.photos.services.engagement import comment_create, photo_sync_tags
from pinstablr.wsgi import application
from tests.factories import PhotoFactory, UserFactory

# Committed transactions, so the app's on-commit hooks run; every alias, because reads go to
# the replica aliases, which mirror the primary's test database. About 15 s on 2 cores once
# every operation passes (a failing operation stops at its first failure).
pytestmark = [pytest.mark.django_db(transaction=True, databases="__all__"), pytest.mark.slow]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    application,
    config=SchemathesisConfig.from_dict(
        {
            "seed": 20261126,
            "cache": {"enabled": False},
            # Authentication is the test's choice (none, or a real token), never random.
            "generation": {"deterministic": True, "with-security-parameters": False},
        }
    ),
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded and repeatable: the same inputs on every run, no time limit per example, and no
# example database kept between runs.
BOUNDED = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Filled by the ``seeded`` fixture; the hooks read it while generating.
SEEDED: dict[str, list[Any]] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Keep the generated value, or use a seeded row's id or name instead."""
    generated = st.just(path_parameters)
    if not isinstance(path_parameters, dict):
        return generated
    choices = [generated]
    for name, key in (("photo_id", "photos"), ("comment_id", "comments"), ("username", "users")):
        if name in path_parameters and SEEDED.get(key):
            choices.append(
                st.sampled_from(SEEDED[key]).map(
                    lambda value, name=name: {**path_parameters, name: value}
                )
            )
    return st.one_of(choices)


def forged_cursor() -> st.SearchStrategy[str]:
    """A cursor as the paginator encodes one (base64 of ``o=&r=&p=``), any position."""
    position = st.one_of(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=32),
        st.datetimes().map(str),
        st.floats().map(str),
        st.integers().map(str),
    )
    fields = st.fixed_dictionaries(
        {"p": position}, optional={"o": st.integers(-5, 10**6).map(str), "r": st.just("1")}
    )
    return fields.map(lambda values: base64.b64encode(urlencode(values).encode()).decode())


# The searches read ``?q=``, which the schema does not declare (yet): without it they only
# ever answer the empty result.
SEARCHES = {"GET /api/v1/users/": "users", "GET /api/v1/tags/": "tags"}


def search_term(key: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(SEEDED[key]).flatmap(
            lambda name: st.integers(1, len(name)).map(lambda end: name[:end])
        ),
        st.text(max_size=12),
    )


@schema.hook
def flatmap_query(context, query):
    """Keep the generated query, or send a forged cursor or a search term with it."""
    generated = st.just(query)
    if query is not None and not isinstance(query, dict):
        return generated
    choices = [generated]
    if "cursor" in context.operation.query:
        choices.append(forged_cursor().map(lambda cursor: {**(query or {}), "cursor": cursor}))
    key = SEARCHES.get(context.operation.label)
    if key and SEEDED.get(key):
        choices.append(search_term(key).map(lambda term: {**(query or {}), "q": term}))
    return st.one_of(choices)


@schema.hook
def flatmap_body(context, body):
    """Keep the generated body, or log in with a seeded user's real credentials."""
    generated = st.just(body)
    if context.operation.label != "POST /api/v1/auth/token/" or not SEEDED.get("users"):
        return generated
    real = st.sampled_from(SEEDED["users"]).map(
        lambda username: {"username": username, "password": PASSWORD}
    )
    return st.one_of(generated, real)


@pytest.fixture
def seeded(settings, tmp_path) -> str:
    """Three users, photos with tags, a comment and a follow; the API token of ``ada``."""
    settings.STORAGES = {
        **settings.STORAGES,
        "originals": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "allow_overwrite": True},
        },
    }
    ada, grace, linus = (UserFactory(username=name) for name in ("ada", "grace", "linus"))
    Follow.objects.create(follower=ada, followee=grace)
    photos = [
        PhotoFactory(owner=ada, caption="morning #sea with @grace"),
        PhotoFactory(owner=grace, caption="dunes #sunset #sea"),
        PhotoFactory(owner=grace, caption=""),
        PhotoFactory(owner=linus, caption="#kernel"),
        PhotoFactory(owner=linus, status=Photo.Status.PENDING),
    ]
    for photo in photos:
        photo_sync_tags(photo=photo)
    comment = comment_create(author=linus, photo=photos[0], text="lovely light")
    SEEDED.update(
        photos=[photo.pk for photo in photos],
        comments=[comment.pk],
        users=["ada", "grace", "linus"],
        tags=["sea", "sunset", "kernel"],
    )
    yield api_token_create(user=ada, name="schemathesis")[1]
    SEEDED.clear()


@schema.parametrize()
@BOUNDED
def test_the_api_keeps_its_schema_for_anonymous_requests(case, seeded):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@BOUNDED
def test_the_api_keeps_its_schema_for_signed_in_requests(case, seeded):
    case.call_and_validate(headers={"Authorization": f"Token {seeded}"}, checks=CHECKS)
