"""Processing on the image workers: renditions, placeholder, clean master, AVIF."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from apps.common.hotcache import bump
from apps.common.queueing import enqueue
from pinstablr.db.config import PRIMARY

from .. import cache_keys, imaging, storage
from ..models import Photo, Rendition
from .files import photo_files_drop, photo_files_withdraw
from .upload import enqueue_processing, upload_drop_unused

logger = logging.getLogger(__name__)

# Bump when the renditions change (sizes, formats, settings): `manage.py reprocess_photos`
# then brings older photos up to date from their stored masters.
PIPELINE_VERSION = 1


def _claim(photo_id: int) -> Photo | None:
    """Mark the photo processing, unless it is already done at this pipeline version."""
    with transaction.atomic(using=PRIMARY):
        photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
        if photo is None:
            return None  # deleted since it was queued
        if photo.status == Photo.Status.READY and photo.pipeline_version >= PIPELINE_VERSION:
            return None
        photo.status = Photo.Status.PROCESSING
        photo.save(update_fields=["status", "updated_at"])
        bump(cache_keys.photo(photo.pk))
        return photo


def _fail(photo: Photo, reason: str) -> None:
    Photo.objects.filter(pk=photo.pk).update(
        status=Photo.Status.FAILED, failure_reason=reason[:300], updated_at=timezone.now()
    )
    bump(cache_keys.photo(photo.pk))


def photo_process(*, photo_id: int) -> None:
    """Make the renditions, placeholder and clean master of a photo; mark it ready.

    Idempotent: keys are content hashes and rows are unique per (photo, width, format), so
    a task that runs twice (a worker killed mid-way, a duplicate delivery) changes nothing
    the second time. A file that cannot be decoded ends ``failed`` with its reason.
    """
    photo = _claim(photo_id)
    if photo is None:
        return
    source_key = photo.original_key or photo.upload_key
    data = storage.read(storage.originals(), source_key)
    try:
        rendered = imaging.render(data)
        master, extension = imaging.clean_master(data, photo.source_format)
    except imaging.CorruptImage as error:
        _fail(photo, str(error))
        return
    _store_renditions(photo, rendered.renditions)
    master_key = storage.original_key(photo.sha256, extension)
    storage.put(storage.originals(), master_key, master)
    with transaction.atomic(using=PRIMARY):
        _replace_renditions(photo, rendered.renditions, formats={"jpeg", "webp"})
        Photo.objects.filter(pk=photo.pk).update(
            status=Photo.Status.READY, failure_reason="", width=rendered.width,
            height=rendered.height, placeholder=rendered.placeholder,
            dominant_color=rendered.dominant_color, original_key=master_key,
            original_bytes=len(master), upload_key="", pipeline_version=PIPELINE_VERSION,
            processed_at=timezone.now(), updated_at=timezone.now(),
        )  # fmt: skip
        bump(cache_keys.PHOTOS, cache_keys.photo(photo.pk))
    if photo.upload_key and photo.upload_key != master_key:
        transaction.on_commit(lambda: upload_drop_unused(key=photo.upload_key), using=PRIMARY)
    transaction.on_commit(lambda: enqueue_avif(photo_id=photo.pk), using=PRIMARY)


def _store_renditions(photo: Photo, encoded: list[imaging.Encoded]) -> None:
    for item in encoded:
        key = storage.rendition_key(photo.file_token, item.data, item.format)
        storage.put(storage.renditions(), key, item.data)


def _replace_renditions(photo: Photo, encoded: list[imaging.Encoded], *, formats: set[str]) -> None:
    """New rows for these formats, in the caller's transaction; files made while the photo
    was hidden go to the private storage with the others."""
    current = Photo.objects.select_for_update().filter(pk=photo.pk).first()  # as hide/restore
    if current is None:
        return  # deleted meanwhile
    replaced = Rendition.objects.filter(photo=photo, format__in=formats)
    old_keys = set(replaced.values_list("storage_key", flat=True))
    replaced.delete()
    rows = Rendition.objects.bulk_create(
        Rendition(
            photo=photo,
            width=item.width,
            height=item.height,
            format=item.format,
            storage_key=storage.rendition_key(photo.file_token, item.data, item.format),
            bytes=len(item.data),
        )
        for item in encoded
    )
    new_keys = {row.storage_key for row in rows}
    if current.hidden_at is not None:
        photo_files_withdraw(photo=current, keys=new_keys)
    # Files of renditions made before (another pipeline version) would stay reachable at
    # URLs once published, hidden photo or not: they go once the new rows are committed.
    stale = old_keys - new_keys
    if stale:
        transaction.on_commit(
            lambda: photo_files_drop(photo_id=photo.pk, keys=stale), using=PRIMARY, robust=True
        )


def enqueue_avif(*, photo_id: int) -> None:
    """Queue a ready photo's AVIF renditions (low priority); a broker error is logged."""
    try:
        enqueue("apps.photos.tasks.encode_avif", photo_id, priority=1)
    except Exception:
        logger.exception("could not queue AVIF renditions of photo %s", photo_id)


def photo_encode_avif(*, photo_id: int) -> None:
    """Add AVIF renditions to a ready photo (about 4x the CPU of JPEG+WebP, so later)."""
    photo = Photo.objects.using(PRIMARY).filter(pk=photo_id, status=Photo.Status.READY).first()
    if photo is None or not photo.original_key:
        return
    data = storage.read(storage.originals(), photo.original_key)
    try:
        rendered = imaging.render(data, formats=("avif",))
    except imaging.CorruptImage:
        logger.exception("AVIF renditions of photo %s failed", photo_id)
        return
    _store_renditions(photo, rendered.renditions)
    with transaction.atomic(using=PRIMARY):
        if Photo.objects.select_for_update().filter(pk=photo_id).exists():
            _replace_renditions(photo, rendered.renditions, formats={"avif"})
            bump(cache_keys.photo(photo_id))


def photos_reprocess_outdated(*, limit: int | None = None) -> int:
    """Queue every ready photo made by an older pipeline version."""
    outdated = Photo.objects.using(PRIMARY).filter(
        status=Photo.Status.READY, pipeline_version__lt=PIPELINE_VERSION
    )
    ids = list(
        outdated.values_list("pk", flat=True)[:limit]
        if limit
        else outdated.values_list("pk", flat=True)
    )
    for photo_id in ids:
        enqueue_processing(photo_id=photo_id)
    return len(ids)
