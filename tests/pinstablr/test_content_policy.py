"""The Content-Security-Policy: on every page and API answer, and what it allows.

The walk covers every route of the permission matrix (tests/test_permission_matrix.py, which
fails on a route without a row), each as a role that may see it, so a new page is checked
as soon as it is added. The browsers' side (a page with a violation fails its test) is in
tests/browser/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from pinstablr.content_policy import rendition_image_sources
from tests.factories import UserFactory
from tests.pinstablr.test_production_settings import COMPLETE_ENVIRONMENT
from tests.processes import REPO
from tests.test_permission_matrix import PUBLIC, all_rows, build_world

HEADER = "Content-Security-Policy"
FILE_POLICY = "default-src 'none'; sandbox"

# The public routes that take arguments, from the matrix's world.
PUBLIC_KWARGS = {
    "photos:detail": lambda w: {"photo_id": w.photo.pk},
    "photos:tag": lambda w: {"name": "sunrise"},
    "accounts:profile": lambda w: {"username": w.owner.username},
    "accounts:password-reset-confirm": lambda w: {"uidb64": "MQ", "token": "set-password"},
    "api:user-detail": lambda w: {"username": w.owner.username},
    "api:photo-detail": lambda w: {"photo_id": w.photo.pk},
    "api:photo-comments": lambda w: {"photo_id": w.photo.pk},
    "rendition-file": lambda w: {"key": f"ab/{'0' * 64}.webp"},
    "admin:view_on_site": lambda w: {"content_type_id": 1, "object_id": 1},
}
# The order in which roles are tried: the first that may see the page opens it.
ROLE_ORDER = ["admin", "ops", "ux_owner", "marketing", "owner", "author", "user", "anonymous"]


def directives(header: str) -> dict[str, set[str]]:
    parsed: dict[str, set[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = set(values)
    return parsed


class InlineCode(HTMLParser):
    """Everything in a page that the policy would refuse to run or apply."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f"<{tag} style={value!r}>")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.found.append("<style> block")
        self._in_inline_script = tag == "script" and "src" not in names
        # Data blocks (json_script) are never run, so the policy does not apply to them.
        if names.get("type") in ("application/json", "application/ld+json"):
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        # An empty inline script is never run (nor reported); an empty <style> is.
        if self._in_inline_script and data.strip():
            self.found.append("inline <script>")

    def handle_endtag(self, tag: str) -> None:
        self._in_inline_script = False


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def assert_strict_policy(header: str) -> None:
    policy = directives(header)
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert {"'self'", "data:", "blob:"} <= policy["img-src"]
    assert policy["object-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["base-uri"] == {"'self'"}
    assert policy["form-action"] == {"'self'"}
    assert "'unsafe-eval'" not in header
    assert "'unsafe-inline'" not in header


def pages(world: SimpleNamespace) -> list[tuple[str, str, str]]:
    """(route, role, URL) of every GET route: public ones as anonymous, others as a role
    that may see them."""
    public, rows = all_rows()
    found = []
    for route in sorted(public | set(PUBLIC)):
        kwargs = PUBLIC_KWARGS[route](world) if route in PUBLIC_KWARGS else None
        try:
            found.append((route, "anonymous", reverse(route, kwargs=kwargs)))
        except NoReverseMatch:
            pytest.fail(f"{route} takes arguments: add it to PUBLIC_KWARGS")
    seen = {route for route, _, _ in found}
    for row in rows:
        if row.method != "get" or row.route in seen:
            continue
        seen.add(row.route)
        allowed = [role for role in ROLE_ORDER if row.expected.get(role) == 200]
        role = allowed[0] if allowed else "admin"
        url = reverse(row.route, kwargs=row.kwargs(world) if row.kwargs else None)
        if row.data_from:
            query = "&".join(f"{k}={v}" for k, v in row.data_from(world).items())
            url = f"{url}?{query}"
        found.append((row.route, role, url))
    return found


def client_as(world: SimpleNamespace, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        actor = getattr(world, role)
        actor.refresh_from_db()  # staff status comes with the team
        client.force_login(actor)
    return client


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_every_page_and_every_html_answer_of_the_api_carries_the_policy_and_no_inline_code():
    world = build_world()
    walked, html_pages, problems = 0, 0, []
    clients: dict[str, APIClient] = {}
    for route, role, url in pages(world):
        client = clients.setdefault(role, client_as(world, role))
        response = client.get(url, HTTP_ACCEPT="text/html")
        walked += 1
        header = response.get(HEADER)
        if header is None:
            problems.append(f"{route} ({url}, {response.status_code}): no {HEADER}")
            continue
        is_html = response.get("Content-Type", "").startswith("text/html")
        if header == FILE_POLICY:
            # Photo files carry a stricter policy of their own: nothing runs, ever.
            assert not is_html, route
        else:
            assert_strict_policy(header)
        if is_html:
            html_pages += 1
            found = inline_code(response.content.decode())
            if found:
                problems.append(f"{route} ({url}) as {role}: {found[:5]}")
    assert problems == []
    # The walk reached the site, the admin (every model), reports and experiments.
    assert walked > 120
    assert html_pages > 100


@pytest.mark.django_db
def test_the_browsable_api_runs_under_the_same_policy_with_nothing_inline(client):
    client.force_login(UserFactory())
    response = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html")
    assert "<h1>" in response.content.decode(), "DRF's page, not JSON"
    assert_strict_policy(response[HEADER])
    assert inline_code(response.content.decode()) == []
    json_answer = client.get("/api/v1/me/", HTTP_ACCEPT="application/json")
    assert_strict_policy(json_answer[HEADER])


@pytest.mark.django_db
def test_swagger_ui_loads_its_start_script_from_a_file(client):
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert inline_code(html) == []
    assert_strict_policy(page[HEADER])
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode(), "no badge from swagger.io"
    assert 'src="/api/docs/?script="' in html


# --- where images may come from ------------------------------------------------------------


def source_allows(source: str, url: str) -> bool:
    """Whether a CSP host source with a path allows ``url`` (CSP Level 3 path matching)."""
    wanted, got = urlsplit(source), urlsplit(url)
    if (wanted.scheme, wanted.netloc) != (got.scheme, got.netloc):
        return False
    return (
        got.path.startswith(wanted.path) if wanted.path.endswith("/") else got.path == wanted.path
    )


def production(extra: dict[str, str]) -> dict[str, Any]:
    """A rendition's URL and /healthz's policy, from the production profile in a process."""
    script = (
        "import json; from django.core.files.storage import storages; "
        "from django.test import Client; "
        "answer = Client().get('/healthz', secure=True, HTTP_HOST='pinstablr.example'); "
        "print(json.dumps({'url': storages['renditions'].url('ab/' + 'c' * 64 + '.webp'), "
        "'policy': answer['Content-Security-Policy'], 'status': answer.status_code}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=REPO,
        env={**clean, **COMPLETE_ENVIRONMENT, **extra}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


S3 = {
    "PINSTABLR_MEDIA_STORAGE": "s3",
    "AWS_STORAGE_BUCKET_NAME": "pinstablr-media",
    "AWS_S3_ENDPOINT_URL": "https://s3.eu-west-1.example-storage.test",
    "AWS_ACCESS_KEY_ID": "access-key",
    "AWS_SECRET_ACCESS_KEY": "secret-key",
}


@pytest.mark.parametrize(
    ("environment", "expected_source"),
    [
        ({}, None),
        (S3, "https://s3.eu-west-1.example-storage.test/pinstablr-media/"),
        ({**S3, "PINSTABLR_RENDITIONS_DOMAIN": "media.pinstablr.example"},
         "https://media.pinstablr.example/"),
    ],
    ids=["filesystem", "s3-signed", "s3-cdn"],
)  # fmt: skip
def test_the_production_profile_sends_the_policy_and_allows_its_rendition_urls(
    environment, expected_source
):
    answer = production(environment)
    assert answer["status"] == 200
    assert_strict_policy(answer["policy"])
    image_sources = directives(answer["policy"])["img-src"] - {"'self'", "data:", "blob:"}
    if expected_source is None:
        assert answer["url"].startswith("/media/r/"), "this site: 'self'"
        assert image_sources == set()
    else:
        assert image_sources == {expected_source}
        assert source_allows(expected_source, answer["url"]), answer["url"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_on_aws_itself_the_bucket_path_is_allowed_not_the_whole_host(region):
    """No endpoint set (AWS): the URL boto3 signs is allowed, another bucket on it is not."""
    from storages.backends.s3 import S3Storage

    storage = S3Storage(
        bucket_name="pinstablr-media", region_name=region, addressing_style="path",
        signature_version="s3v4", access_key="access-key", secret_key="secret-key",
        location="r", querystring_auth=True,
    )  # fmt: skip
    url = storage.url(f"ab/{'c' * 64}.webp")
    sources = rendition_image_sources(
        media_storage="s3", renditions_domain="", endpoint_url="", bucket="pinstablr-media",
        region=region,
    )  # fmt: skip
    assert any(source_allows(source, url) for source in sources), (url, sources)
    other_bucket = url.replace("/pinstablr-media/", "/someone-else/")
    assert not any(source_allows(source, other_bucket) for source in sources)
