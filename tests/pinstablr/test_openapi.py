"""The OpenAPI 3 schema is generated without warnings and validates against the spec."""

import pytest
from django.core.management import call_command


def test_the_schema_generates_cleanly_and_validates(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/photos/", "/api/v1/feed/", "/api/v1/explore/", "/api/v1/me/"):
        assert f"{path}:" in text


@pytest.mark.django_db
def test_the_schema_and_the_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content, "Swagger UI is served from our own static files"
