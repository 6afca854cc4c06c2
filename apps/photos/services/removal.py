"""Deleting photos and the stored objects nobody else uses."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from .. import cache_keys, storage
from ..models import Photo
from .files import photo_files_drop


def photo_delete(*, photo: Photo) -> None:
    """Delete a photo and every stored object no other photo still uses; its files answer
    404 from then on, from the public storage and (hidden) from the private one."""
    photo_id = photo.pk
    keys = list(photo.renditions.values_list("storage_key", flat=True))
    originals = [key for key in (photo.upload_key, photo.original_key) if key]
    with transaction.atomic(using=PRIMARY):
        bump(cache_keys.PHOTOS, cache_keys.photo(photo.pk))
        photo.delete()
    photo_files_drop(photo_id=photo_id, keys=keys)
    for key in originals:
        in_use = Photo.objects.using(PRIMARY).filter(Q(original_key=key) | Q(upload_key=key))
        if not in_use.exists():
            storage.delete_quietly(storage.originals(), key)
