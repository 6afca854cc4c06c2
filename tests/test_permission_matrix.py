"""Who may do what: every route, method and role, and the status each gets.

The table must name every non-public route, the admin's included: a new route without a row
fails ``test_every_route_is_public_or_in_the_matrix``. Apps add their rows in
``tests/<app>/matrix_rows.py`` (with ``ADMIN_ACCESS`` rules for their models in the admin);
the admin's rows are generated from those rules, which must name every model registered in
the admin. Roles are described in
``tests/permission_rows.py``.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from apps.audit.services import audit_record
from apps.photos.models import Comment
from apps.teams.services import team_add_member
from tests.conftest import media_settings
from tests.factories import PhotoFactory, UserFactory, team
from tests.permission_rows import Row

WORLD_DATABASES = ["default", "experiments"]
pytestmark = pytest.mark.django_db(databases=WORLD_DATABASES)

APPS_WITH_ROWS = ["pinstablr", "photos", "reports", "experiments"]

# Routes anyone may GET (or, for the token endpoint and logout, POST): pages and API reads.
PUBLIC = {
    "home", "healthz", "readyz", "rendition-file", "schema", "api-docs",
    "accounts:signup", "accounts:login", "accounts:logout", "accounts:password-reset",
    "accounts:password-reset-sent", "accounts:password-reset-confirm",
    "accounts:password-reset-complete", "accounts:profile",
    "photos:explore", "photos:detail", "photos:tag", "photos:search",
    "api:auth-token", "api:user-search", "api:user-detail", "api:photo-list", "api:photo-detail",
    "api:photo-comments", "api:explore", "api:tag-search",
    "admin:login", "admin:logout", "admin:view_on_site",
}  # fmt: skip

SIGNED_IN = ["user", "owner", "author", "marketing", "marketing_ungranted"]  # not staff
STAFF = ["ux_owner", "ux_other", "ops"]
ROLES = ["anonymous", *SIGNED_IN, *STAFF, "admin"]


def everyone(status: int, **overrides: int) -> dict[str, int]:
    """``status`` for every signed-in role, 302 to the login page for anonymous."""
    return {"anonymous": 302, **dict.fromkeys([*SIGNED_IN, *STAFF, "admin"], status), **overrides}


def api_everyone(status: int, **overrides: int) -> dict[str, int]:
    return {**everyone(status, **overrides), "anonymous": 401}


photo = {"kwargs": lambda w: {"photo_id": w.photo.pk}}


def owner(w: SimpleNamespace) -> dict[str, str]:
    return {"username": w.owner.username}


STAFF_ONLY = {**everyone(302), **dict.fromkeys([*STAFF, "admin"], 200)}
MODERATORS = {"ops": 200, "admin": 200}

MATRIX = [
    Row("accounts:password-change", "get", everyone(200)),
    Row("accounts:password-change-done", "get", everyone(200)),
    Row("accounts:settings", "get", everyone(200)),
    Row("accounts:tokens", "get", everyone(200)),
    Row("accounts:tokens", "post", everyone(200), {"name": "script"}),
    # The token is the author's: anyone else is told there is no such token.
    Row(
        "accounts:token-revoke", "post", everyone(404, author=302),
        kwargs=lambda w: {"token_id": w.token.pk},
    ),
    Row("accounts:follow", "post", everyone(302), kwargs=owner),
    Row("photos:upload", "get", everyone(200)),
    Row("photos:like", "post", everyone(302), **photo),
    Row("photos:comment", "post", everyone(302), {"text": "hi"}, **photo),
    Row("photos:moderate", "post", everyone(403, ops=302, admin=302), {"reason": "spam"}, **photo),
    Row("teams:operations", "get", everyone(403, ops=200, admin=200)),
    Row("api:me", "get", api_everyone(200)),
    Row("api:me", "patch", api_everyone(200), {"bio": "hello"}),
    Row("api:user-follow", "put", api_everyone(200, owner=400), kwargs=owner),
    Row("api:user-follow", "delete", api_everyone(200), kwargs=owner),
    Row("api:photo-list", "post", api_everyone(400)),
    Row("api:photo-detail", "patch", api_everyone(403, owner=200), {"caption": "x"}, **photo),
    Row("api:photo-detail", "delete", api_everyone(403, owner=204), **photo),
    Row("api:photo-like", "put", api_everyone(200), **photo),
    Row("api:photo-like", "delete", api_everyone(200), **photo),
    Row("api:photo-comments", "post", api_everyone(201), {"text": "hi"}, **photo),
    Row("api:photo-moderation", "put", api_everyone(403, **MODERATORS), {"reason": "x"}, **photo),
    Row("api:photo-moderation", "delete", api_everyone(403, **MODERATORS), **photo),
    Row(
        "api:comment-detail", "delete", api_everyone(403, author=204, owner=204),
        kwargs=lambda w: {"comment_id": w.comment.pk},
    ),
    Row("api:feed", "get", api_everyone(200)),
    # The admin's moderation action: ops get the page asking for a reason.
    Row(
        "admin:photos_photo_changelist", "post",
        {**everyone(302), **dict.fromkeys(["ux_owner", "ux_other"], 403), "ops": 200, "admin": 200},
        data_from=lambda w: {"action": "hide_photos", "_selected_action": [w.photo.pk]},
    ),
    Row("admin:index", "get", STAFF_ONLY),
    Row("admin:password_change", "get", STAFF_ONLY),
    Row("admin:password_change_done", "get", STAFF_ONLY),
    Row("admin:jsi18n", "get", STAFF_ONLY),
    Row(
        "admin:autocomplete", "get",
        {**everyone(302), "ux_owner": 403, "ux_other": 403, "ops": 403, "admin": 200},
        data_from=lambda w: {"app_label": "photos", "model_name": "photo", "field_name": "owner"},
    ),
    Row(
        "admin:auth_user_password_change", "get",
        {**everyone(302), "ux_owner": 403, "ux_other": 403, "ops": 403, "admin": 200},
        kwargs=lambda w: {"id": str(w.user.pk)},
    ),
    Row(
        "admin:app_list", "get",
        {**everyone(302), "ux_owner": 404, "ux_other": 404, "ops": 200, "admin": 200},
        kwargs=lambda w: {"app_label": "photos"},
    ),
]  # fmt: skip

# Each model in the admin: which roles may view, add, change and delete. The superuser
# ("admin") is listed where it may: a read-only log cannot be edited even by an admin.
ALL = frozenset(ROLES)
ADMIN_ONLY = {"view": {"admin"}, "add": {"admin"}, "change": {"admin"}, "delete": {"admin"}}
ADMIN_ACCESS: dict[str, dict[str, set[str]]] = {
    "accounts.user": ADMIN_ONLY,
    "accounts.profile": ADMIN_ONLY,
    "auth.group": ADMIN_ONLY,
    "accounts.apitoken": {**ADMIN_ONLY, "add": set()},  # tokens are made by their owner only
    "photos.photo": {**ADMIN_ONLY, "view": {"ops", "admin"}},
    "audit.auditentry": {"view": {"ops", "admin"}, "add": set(), "change": set(), "delete": set()},
}  # fmt: skip


def admin_object(world: SimpleNamespace, label: str):
    """An object of each model in the admin, for its change, delete and history pages."""
    return {
        "accounts.user": world.user,
        "accounts.profile": world.user.profile,
        "auth.group": world.teams["marketing"].group,
        "accounts.apitoken": world.token,
        "photos.photo": world.photo,
        "audit.auditentry": world.audit_entry,
    }.get(label) or getattr(world, "admin_objects", {})[label]


def admin_rows(admin_access: dict[str, dict[str, set[str]]]) -> list[Row]:
    """The changelist, add, change, delete and history pages of every model in the admin."""
    rows = []
    for model in admin.site._registry:
        label = model._meta.label_lower
        access = admin_access.get(label)
        if access is None:
            continue  # test_every_admin_model_has_access_rules names it
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        readers = access["view"] | access["change"]

        def statuses(allowed: set[str], refused: int = 403) -> dict[str, int]:
            expected = everyone(302)
            expected.update(
                {role: 200 if role in allowed else refused for role in [*STAFF, "admin"]}
            )
            return expected

        def on_object(w: SimpleNamespace, label: str = label) -> dict[str, str]:
            return {"object_id": str(admin_object(w, label).pk)}

        if hasattr(admin.site._registry[model], "obj_perms_manage_view"):
            # guardian's pages that grant and revoke per object: for who may change it; the
            # others are sent back to the admin's index.
            granters = statuses(access["change"], refused=302)

            def grants(w: SimpleNamespace, label: str = label) -> dict[str, str]:
                return {"object_pk": str(admin_object(w, label).pk)}

            rows += [
                Row(f"{prefix}_permissions", "get", granters, kwargs=grants),
                Row(
                    f"{prefix}_permissions_manage_user", "get", granters,
                    kwargs=lambda w, grants=grants: {**grants(w), "user_id": str(w.marketing.pk)},
                ),
                Row(
                    f"{prefix}_permissions_manage_group", "get", granters,
                    kwargs=lambda w, grants=grants: {
                        **grants(w), "group_id": str(w.teams["marketing"].group.pk)
                    },
                ),
            ]  # fmt: skip
        rows += [
            Row(f"{prefix}_changelist", "get", statuses(readers)),
            Row(f"{prefix}_add", "get", statuses(access["add"])),
            Row(f"{prefix}_change", "get", statuses(readers), kwargs=on_object),
            Row(f"{prefix}_history", "get", statuses(readers), kwargs=on_object),
            Row(f"{prefix}_delete", "get", statuses(access["delete"]), kwargs=on_object),
        ]
    return rows


def all_rows() -> tuple[set[str], list[Row]]:
    """Public routes and rows: this file's, then each app's (with its admin access rules)."""
    public, rows, admin_access = set(PUBLIC), list(MATRIX), dict(ADMIN_ACCESS)
    for name in APPS_WITH_ROWS:
        module = importlib.import_module(f"tests.{name}.matrix_rows")
        public |= set(getattr(module, "PUBLIC", set()))
        rows += getattr(module, "ROWS", [])
        admin_access |= getattr(module, "ADMIN_ACCESS", {})
    return public, [*rows, *admin_rows(admin_access)]


def route_names(patterns=None, namespace: str = "") -> Iterator[str]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace else (pattern.namespace or "")
            yield from route_names(pattern.url_patterns, inner if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_route_is_public_or_in_the_matrix():
    public, rows = all_rows()
    missing = sorted(set(route_names()) - public - {row.route for row in rows})
    assert missing == [], f"routes with no row in the permission matrix: {missing}"


def test_every_admin_model_has_access_rules():
    _, rows = all_rows()
    covered = {row.route for row in rows}
    missing = [
        model._meta.label_lower
        for model in admin.site._registry
        if f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist" not in covered
    ]
    assert missing == [], f"admin models with no access rules: {missing}"


def build_world() -> SimpleNamespace:
    """Every role and one object of each kind, with the grants the roles description names."""
    w = SimpleNamespace()
    w.teams = {name: team(name) for name in ("marketing", "ux", "ops")}
    w.teams["marketing-emea"] = team("marketing-emea", purpose="marketing")
    w.teams["ux-growth"] = team("ux-growth", purpose="ux")
    w.user, w.author = UserFactory(), UserFactory()
    w.photo = PhotoFactory()
    w.owner = w.photo.owner
    w.comment = Comment.objects.create(photo=w.photo, author=w.author, text="nice")
    for role, team_name in [
        ("marketing", "marketing"), ("marketing_ungranted", "marketing-emea"),
        ("ux_owner", "ux"), ("ux_other", "ux-growth"), ("ops", "ops"),
    ]:  # fmt: skip
        setattr(w, role, UserFactory())
        team_add_member(team=w.teams[team_name], user=getattr(w, role))
    w.admin = UserFactory(is_staff=True, is_superuser=True)
    w.token, _ = api_token_create(user=w.author, name="matrix")
    w.audit_entry = audit_record(action="grant", target=w.photo, actor=w.admin)
    for name in APPS_WITH_ROWS:
        module = importlib.import_module(f"tests.{name}.matrix_rows")
        if hasattr(module, "populate_world"):
            module.populate_world(w)
    return w


_, ROWS = all_rows()
# Pages that read every database (the operations page inspects each replica) need them all,
# which in-memory SQLite copies only allow outside a wrapping transaction.
READS_EVERY_DATABASE = {"teams:operations"}
CASES = [(row, role) for row in ROWS for role in row.expected]
EVERY_DATABASE_CASES = [case for case in CASES if case[0].route in READS_EVERY_DATABASE]
CASES = [case for case in CASES if case[0].route not in READS_EVERY_DATABASE]


def case_ids(cases) -> list[str]:
    return [f"{row.route}-{row.method}-{role}" for row, role in cases]


def check(world: SimpleNamespace, row: Row, role: str) -> None:
    client = APIClient()
    actor = None if role == "anonymous" else getattr(world, role)
    if actor is not None:
        actor.refresh_from_db()  # staff status comes with the team
        client.force_login(actor)
    url = reverse(row.route, kwargs=row.kwargs(world) if row.kwargs else None)
    data = row.data_from(world) if row.data_from else row.data
    is_api = row.route.startswith("api:")
    response = getattr(client, row.method)(url, data, format="json" if is_api else None)
    assert response.status_code == row.expected[role], (
        f"{row.method.upper()} {row.route} as {role}: {response.status_code}, "
        f"expected {row.expected[role]}: {response.content[:300]!r}"
    )
    if response.status_code == 302 and role == "anonymous":
        assert "login" in response["Location"]


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The world, built once for every case of the class, in transactions left open.

    Each case runs in savepoints inside them (pytest-django's per-test transaction), rolled
    back after it: no case sees another's writes. The files the world writes are copied into
    each case's media folder. The transactions are rolled back after the last case.
    """
    root = tmp_path_factory.mktemp("matrix-world")
    atomics = [transaction.atomic(using=alias) for alias in WORLD_DATABASES]
    with django_db_blocker.unblock():
        for atomic in atomics:
            atomic.__enter__()
    try:
        with django_db_blocker.unblock(), override_settings(**media_settings(root)):
            world = build_world()
        world.files = root
        yield world
    finally:
        with django_db_blocker.unblock():
            for alias, atomic in reversed([*zip(WORLD_DATABASES, atomics, strict=True)]):
                transaction.set_rollback(True, using=alias)
                atomic.__exit__(None, None, None)


class TestPermission:
    @pytest.fixture(autouse=True)
    def _media_in_tmp(self, _media_in_tmp, world: SimpleNamespace, tmp_path) -> None:
        shutil.copytree(world.files, tmp_path, dirs_exist_ok=True)

    @pytest.mark.parametrize(("row", "role"), CASES, ids=case_ids(CASES))
    def test_permission(self, world: SimpleNamespace, row: Row, role: str):
        check(world, row, role)


# These commit: each case builds its own world (they are few).
@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize(("row", "role"), EVERY_DATABASE_CASES, ids=case_ids(EVERY_DATABASE_CASES))
def test_permission_on_pages_reading_every_database(row: Row, role: str):
    check(build_world(), row, role)
