"""The server-rendered pages: content, permissions, query budgets, escaping."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.accounts.models import Follow
from apps.photos.models import Comment, Like
from apps.photos.services.engagement import photo_sync_tags
from tests.factories import PhotoFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/explore/", "/u/{owner}/", "/t/sunset/"])
def test_list_pages_cost_the_same_queries_for_5_or_30_photos(
    path, client, django_assert_max_num_queries
):
    viewer = UserFactory()
    client.force_login(viewer)
    for count in (5, 30):
        owner = UserFactory()
        Follow.objects.create(follower=viewer, followee=owner)
        for photo in PhotoFactory.create_batch(count, owner=owner, caption="#sunset"):
            photo_sync_tags(photo=photo)
        cache.clear()
        with django_assert_max_num_queries(12):
            response = client.get(path.format(owner=owner.username))
        assert response.status_code == 200
        assert response.content.count(b'class="card"') >= min(count, 24)


def test_the_first_page_hands_the_js_client_the_api_url_of_the_next():
    PhotoFactory.create_batch(30)
    from django.test import Client

    html = Client().get("/").content.decode()
    assert 'data-next="/api/v1/photos/?cursor=' in html
    assert html.count('class="card" data-photo-id=') == 24


def test_a_photo_page_shows_every_format_a_placeholder_and_a_linked_caption(client):
    photo = PhotoFactory(
        caption='Dawn at the pier #Sunrise with @ada <script>alert("x")</script>',
        placeholder="3OcRJYB4d3h/iIeHeEh3eIhw+j3A",
        dominant_color="#a0b0c0",
    )
    Comment.objects.create(photo=photo, author=UserFactory(username="bo"), text="<b>nice</b>")
    html = client.get(f"/p/{photo.id}/").content.decode()
    assert 'type="image/webp"' in html
    assert 'type="image/jpeg"' in html
    assert " 256w" in html
    assert "data:image/png;base64," in html
    assert 'data-color="#a0b0c0"' in html
    assert '<a href="/t/sunrise/" class="tag">#Sunrise</a>' in html
    assert '<a href="/u/ada/">@ada</a>' in html
    assert "<script>alert" not in html
    assert "&lt;b&gt;nice&lt;/b&gt;" in html
    assert 'alt="Dawn at the pier' in html


def test_the_like_comment_and_follow_forms_work_without_javascript(client):
    photo, me = PhotoFactory(), UserFactory()
    client.force_login(me)
    assert client.post(f"/p/{photo.id}/like/").status_code == 302
    assert Like.objects.filter(user=me, photo=photo).exists()
    client.post(f"/p/{photo.id}/like/")
    assert not Like.objects.filter(user=me, photo=photo).exists()
    client.post(f"/p/{photo.id}/comments/", {"text": "lovely"})
    assert Comment.objects.get().text == "lovely"
    client.post(f"/u/{photo.owner.username}/follow/")
    assert Follow.objects.filter(follower=me, followee=photo.owner).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/upload/"), ("get", "/settings/profile/"), ("post", "/p/{id}/like/"),
     ("post", "/p/{id}/comments/"), ("post", "/u/{owner}/follow/")],
)  # fmt: skip
def test_pages_that_act_need_a_signed_in_user(method, path, client):
    photo = PhotoFactory()
    response = getattr(client, method)(path.format(id=photo.id, owner=photo.owner.username))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Like.objects.exists()
    assert not Comment.objects.exists()


def test_a_pending_photo_is_visible_to_its_owner_only(client):
    photo = PhotoFactory(status="pending")
    assert client.get(f"/p/{photo.id}/").status_code == 404
    client.force_login(photo.owner)
    assert b"being processed" in client.get(f"/p/{photo.id}/").content


def test_search_finds_people_and_tags(client):
    UserFactory(username="grace")
    photo_sync_tags(photo=PhotoFactory(caption="#graffiti"))
    html = client.get("/search/", {"q": "gra"}).content.decode()
    assert "@grace" in html
    assert "#graffiti" in html
