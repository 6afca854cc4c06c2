"""A dead broker: the upload is kept and acknowledged, and processed once the broker is back."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.photos.models import Photo
from apps.photos.services import photos_requeue_pending
from tests.brokers import broker_at
from tests.factories import UserFactory

from . import samples

pytestmark = pytest.mark.django_db


def test_an_upload_while_the_broker_is_down_is_kept_pending_then_queued_again(
    images_queue, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.force_authenticate(UserFactory())
    upload = SimpleUploadedFile("photo.jpg", samples.jpeg())
    with broker_at("amqp://guest:guest@127.0.0.1:1//"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/photos/", {"image": upload}, format="multipart")
        elapsed = time.monotonic() - started
    assert response.status_code == 201
    assert elapsed < 10, f"a dead broker must not hang the upload ({elapsed:.1f}s)"
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.PENDING
    assert images_queue.count() == 0

    assert photos_requeue_pending(older_than_seconds=0) == 1
    assert images_queue.count() == 1
