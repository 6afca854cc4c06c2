"""Uploads: check, store, queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.common.queueing import enqueue
from pinstablr.db.config import PRIMARY

from .. import storage
from ..models import Photo
from ..validation import UploadRejected, check_file_name, probe_upload
from .engagement import photo_sync_tags

logger = logging.getLogger(__name__)
WAITING = (Photo.Status.PENDING, Photo.Status.PROCESSING)


class TooManyPending(UploadRejected):
    """The user already has as many photos waiting for the image workers as allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            "too_many_pending_uploads",
            f"You have {limit} photos waiting to be processed, the most at once. Upload more "
            "once some of them are ready.",
        )


def _check_pending(owner: User, *, using: str | None = None) -> None:
    limit = settings.PINSTABLR_UPLOAD_MAX_PENDING_PER_USER
    if Photo.objects.using(using).filter(owner=owner, status__in=WAITING).count() >= limit:
        raise TooManyPending(limit)


def photo_create(
    *, owner: User, upload: IO[bytes], size: int, name: str | None = None, caption: str = ""
) -> tuple[Photo, bool]:
    """Store an upload and queue its processing; ``(photo, created)``.

    The same user sending the same bytes again gets the photo they already have: no second
    copy, no second processing. Raises ``UploadRejected`` (nothing stored) for bad files, and
    ``TooManyPending`` when the owner already has ``PINSTABLR_UPLOAD_MAX_PENDING_PER_USER``
    photos waiting for the image workers: one account cannot fill the queue that everyone's
    photos wait in.
    """
    check_file_name(name)
    _check_pending(owner)  # before any decoding: a refused upload costs next to nothing
    probe = probe_upload(upload, size=size)
    existing = Photo.objects.filter(owner=owner, sha256=probe.sha256).first()
    if existing is not None:
        return existing, False
    key = storage.upload_key(probe.sha256)
    storage.put(storage.originals(), key, probe.data)
    try:
        with transaction.atomic(using=PRIMARY):
            # Counted again under a lock of the owner's row: uploads sent at once are counted
            # one after the other, so none slips past the limit.
            User.objects.select_for_update().only("pk").get(pk=owner.pk)
            _check_pending(owner, using=PRIMARY)
            photo = Photo.objects.create(
                owner=owner, caption=caption, sha256=probe.sha256, source_format=probe.format,
                upload_key=key, original_bytes=len(probe.data), width=probe.width,
                height=probe.height,
            )  # fmt: skip
            photo_sync_tags(photo=photo)
    except IntegrityError:  # the same upload, twice at once: the first one wins
        return Photo.objects.using(PRIMARY).get(owner=owner, sha256=probe.sha256), False
    except TooManyPending:
        upload_drop_unused(key=key)
        raise
    transaction.on_commit(lambda: enqueue_processing(photo_id=photo.pk), using=PRIMARY)
    return photo, True


def upload_drop_unused(*, key: str) -> None:
    """Delete a raw upload once no photo waiting for processing needs it."""
    if not Photo.objects.using(PRIMARY).filter(upload_key=key).exists():
        storage.delete_quietly(storage.originals(), key)


def enqueue_processing(*, photo_id: int) -> None:
    """Queue a photo for the image workers; a dead broker leaves it pending, not lost.

    Pending photos are queued again by the ``requeue_pending_photos`` task once the broker
    is back.
    """
    try:
        enqueue("apps.photos.tasks.process_photo", photo_id, priority=6)
    except Exception:
        logger.exception("could not queue photo %s; it stays pending", photo_id)


def photos_requeue_pending(*, older_than_seconds: int = 300) -> int:
    """Queue again photos left pending (broker was down) or stuck processing (worker lost)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stuck = Photo.objects.using(PRIMARY).filter(
        status__in=[Photo.Status.PENDING, Photo.Status.PROCESSING], updated_at__lt=cutoff
    )
    ids = list(stuck.values_list("pk", flat=True)[:1000])
    for photo_id in ids:
        enqueue_processing(photo_id=photo_id)
    return len(ids)
