"""Lists, likes, comments, captions, follows: behaviour, permissions and query budgets."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.accounts.models import Follow
from apps.photos.models import Comment, Photo
from tests.factories import PhotoFactory, UserFactory, api_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/photos/", "/api/v1/explore/", "/api/v1/feed/"])
def test_lists_cost_the_same_queries_for_5_or_40_photos(path, django_assert_max_num_queries):
    viewer = UserFactory()
    for count in (5, 40):
        owner = UserFactory()
        Follow.objects.create(follower=viewer, followee=owner)
        PhotoFactory.create_batch(count, owner=owner)
        cache.clear()  # rows made by the factory bump no versions: measure a cold page
        with django_assert_max_num_queries(5):
            response = api_client(viewer).get(path, {"page_size": 50})
        assert response.status_code == 200
        assert len(response.json()["results"]) >= count


def test_the_photo_list_shows_ready_photos_only_and_filters_by_owner_and_tag():
    ada = UserFactory(username="ada")
    PhotoFactory(owner=ada, caption="dunes #Sunset")
    PhotoFactory(owner=ada, status=Photo.Status.PENDING)
    PhotoFactory()
    from apps.photos.services.engagement import photo_sync_tags

    for photo in Photo.objects.all():
        photo_sync_tags(photo=photo)
    anonymous = api_client()
    assert len(anonymous.get("/api/v1/photos/").json()["results"]) == 2
    by_ada = anonymous.get("/api/v1/photos/", {"owner": "ada"}).json()["results"]
    assert [p["owner"] for p in by_ada] == ["ada"]
    tagged = anonymous.get("/api/v1/photos/", {"tag": "#sunset"}).json()["results"]
    assert [p["tags"] for p in tagged] == [["sunset"]]


def test_the_feed_shows_people_i_follow_and_me_newest_first():
    me, followed, stranger = UserFactory(), UserFactory(), UserFactory()
    Follow.objects.create(follower=me, followee=followed)
    mine, theirs = PhotoFactory(owner=me), PhotoFactory(owner=followed)
    PhotoFactory(owner=stranger)
    ids = [p["id"] for p in api_client(me).get("/api/v1/feed/").json()["results"]]
    assert ids == [theirs.id, mine.id]
    assert api_client().get("/api/v1/feed/").status_code == 401


def test_explore_orders_by_engagement_with_decay():
    quiet = PhotoFactory(hot_score=0.1)
    popular = PhotoFactory(hot_score=9.0)
    ids = [p["id"] for p in api_client().get("/api/v1/explore/").json()["results"]]
    assert ids == [popular.id, quiet.id]


def test_liking_is_idempotent_and_counted():
    photo, fan = PhotoFactory(), UserFactory()
    client = api_client(fan)
    for _ in range(2):
        assert client.put(f"/api/v1/photos/{photo.id}/like/").json() == {
            "liked": True,
            "like_count": 1,
        }
    assert client.get(f"/api/v1/photos/{photo.id}/").json()["liked"] is True
    for _ in range(2):
        assert client.delete(f"/api/v1/photos/{photo.id}/like/").json() == {
            "liked": False,
            "like_count": 0,
        }
    assert api_client().put(f"/api/v1/photos/{photo.id}/like/").status_code == 401


def test_a_pending_photo_of_someone_else_cannot_be_seen_or_liked():
    photo = PhotoFactory(status=Photo.Status.PENDING)
    stranger = api_client(UserFactory())
    assert stranger.get(f"/api/v1/photos/{photo.id}/").status_code == 404
    assert stranger.put(f"/api/v1/photos/{photo.id}/like/").status_code == 404
    assert api_client(photo.owner).get(f"/api/v1/photos/{photo.id}/").status_code == 200


def test_comments_can_be_added_listed_and_deleted_by_their_author_or_the_photo_owner(
    django_assert_max_num_queries,
):
    photo = PhotoFactory()
    author, other = UserFactory(), UserFactory()
    created = api_client(author).post(
        f"/api/v1/photos/{photo.id}/comments/", {"text": " lovely light "}
    )
    assert created.status_code == 201
    assert created.json()["text"] == "lovely light"
    for index in range(10):
        Comment.objects.create(photo=photo, author=other, text=f"comment {index}")
    with django_assert_max_num_queries(4):
        listed = api_client().get(f"/api/v1/photos/{photo.id}/comments/").json()["results"]
    assert listed[0]["author"] == author.username, "oldest first"

    comment_id = created.json()["id"]
    forbidden = api_client(other).delete(f"/api/v1/comments/{comment_id}/")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "permission_denied"
    assert api_client(photo.owner).delete(f"/api/v1/comments/{comment_id}/").status_code == 204
    assert Photo.objects.get(pk=photo.pk).comment_count == 0


def test_only_the_owner_edits_a_caption_and_its_tags_follow():
    photo = PhotoFactory()
    response = api_client(photo.owner).patch(
        f"/api/v1/photos/{photo.id}/", {"caption": "at #dawn with @ada #Dawn"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["tags"] == ["dawn"]
    other = api_client(UserFactory()).patch(
        f"/api/v1/photos/{photo.id}/", {"caption": "mine now"}, format="json"
    )
    assert other.status_code == 403
    assert Photo.objects.get(pk=photo.pk).caption == "at #dawn with @ada #Dawn"


def test_following_is_idempotent_and_self_follow_is_refused():
    me, ada = UserFactory(), UserFactory(username="ada")
    client = api_client(me)
    for _ in range(2):
        body = client.put("/api/v1/users/ada/follow/").json()
        assert (body["followed"], body["follower_count"]) == (True, 1)
    body = client.delete("/api/v1/users/ada/follow/").json()
    assert (body["followed"], body["follower_count"]) == (False, 0)
    refused = client.put(f"/api/v1/users/{me.username}/follow/")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "You cannot follow yourself."
    assert ada.followers.count() == 0


def test_search_users_and_tags():
    UserFactory(username="grace")
    PhotoFactory(caption="#graffiti")
    from apps.photos.services.engagement import photo_sync_tags

    photo_sync_tags(photo=Photo.objects.get())
    assert [u["username"] for u in api_client().get("/api/v1/users/", {"q": "gra"}).json()] == [
        "grace"
    ]
    assert api_client().get("/api/v1/tags/", {"q": "#gra"}).json() == [{"name": "graffiti"}]


def test_a_token_for_a_password_and_logins_are_throttled(settings):
    UserFactory(username="ada", password="correct horse battery staple")
    client = api_client()
    good = client.post(
        "/api/v1/auth/token/", {"username": "ada", "password": "correct horse battery staple"}
    )
    assert good.status_code == 200
    assert (
        api_client()
        .get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {good.json()['token']}")
        .status_code
        == 200
    )

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "3/minute",
        },
    }
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    statuses = [
        client.post("/api/v1/auth/token/", {"username": "ada", "password": "guess"}).status_code
        for _ in range(5)
    ]
    assert statuses[:2] == [400, 400]
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/photos/999999/", 404),
        ("get", "/api/v1/feed/", 401),
        ("post", "/api/v1/photos/", 401),
        ("get", "/api/v1/users/nobody/", 404),
    ],
)
def test_every_error_has_the_same_shape(method, path, status):
    response = getattr(api_client(), method)(path)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"]
    assert error["message"]


def test_a_forged_cursor_is_a_bad_link_not_a_server_error():
    from base64 import b64encode

    PhotoFactory()
    for position in (b"p=not-a-date", b"p=2026-13-45T99:99:99", b"o=x&p=1"):
        cursor = b64encode(position).decode()
        response = api_client().get("/api/v1/photos/", {"cursor": cursor})
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Invalid cursor"
