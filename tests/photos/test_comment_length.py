"""One rule for a comment's length, kept by the service, the page and the API alike."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.photos.models import COMMENT_MAX_LENGTH, Comment
from apps.photos.services.engagement import comment_create
from tests.factories import PhotoFactory, UserFactory, api_client

pytestmark = pytest.mark.django_db
TOO_LONG = "x" * (COMMENT_MAX_LENGTH + 1)


@pytest.mark.parametrize("text", [TOO_LONG, "   "])
def test_the_service_refuses_an_over_long_or_empty_comment(text):
    with pytest.raises(ValidationError, match="between 1 and 1,000 characters"):
        comment_create(author=UserFactory(), photo=PhotoFactory(), text=text)
    assert not Comment.objects.exists()


def test_the_longest_comment_is_kept_without_surrounding_spaces():
    text = "x" * COMMENT_MAX_LENGTH
    comment = comment_create(author=UserFactory(), photo=PhotoFactory(), text=f"  {text} ")
    assert comment.text == text


def test_the_page_and_the_api_refuse_an_over_long_comment(client):
    author, photo = UserFactory(), PhotoFactory()
    client.force_login(author)
    page = client.post(f"/p/{photo.id}/comments/", {"text": TOO_LONG}, follow=True)
    assert "A comment needs between 1 and 1,000 characters." in page.content.decode()
    api = api_client(author).post(f"/api/v1/photos/{photo.id}/comments/", {"text": TOO_LONG})
    assert api.status_code == 400
    assert not Comment.objects.exists()
