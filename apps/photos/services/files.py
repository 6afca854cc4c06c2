"""A photo's rendition files follow who may see it: public storage while everyone may, the
private storage while it is hidden, nowhere once it is deleted.

Rendition URLs are public and cached for long (a year by browsers, ``s-maxage`` by shared
caches), so a hidden photo cannot be taken back by a check in front of them without giving
up that caching for every visible photo. Instead hiding moves the files out of the public
storage before the hide commits: every URL that served them (the app's ``/media/r/`` route,
the bucket, a CDN's origin) answers 404 on the next request. Its owner and the moderators see
them through a route that checks who asks on every request and forbids caching
(``photos:hidden-file``). Restoring copies them back into a new folder (a new
``file_token``), so no URL from before the hide serves the photo again: neither one a CDN
cached as a 404 nor one that was purged. A CDN in front must still be purged on hide to drop
its copies before ``s-maxage`` runs out (docs/runbook.md).

Each photo's files are in a folder of its own, so these moves never touch another photo's.
Renditions made before there were folders may be shared by photos of identical bytes: such a
file stays public while a photo that is not hidden uses it (it is that photo's file too).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from pinstablr.db.config import PRIMARY

from .. import storage
from ..models import Photo, Rendition, new_file_token


def _used_elsewhere(photo_id: int, keys: Iterable[str], *, hidden_too: bool) -> set[str]:
    """Those of ``keys`` that renditions of other photos (hidden ones too, or not) also use."""
    others = Rendition.objects.using(PRIMARY).filter(storage_key__in=list(keys))
    if not hidden_too:
        others = others.filter(photo__hidden_at__isnull=True)
    return set(others.exclude(photo_id=photo_id).values_list("storage_key", flat=True))


def photo_files_withdraw(*, photo: Photo, keys: Iterable[str] | None = None) -> None:
    """Move a hidden photo's rendition files (all, or ``keys``) to the private storage.

    Safe to repeat: a file already moved is skipped, so a hide that failed half-way is
    finished by hiding again.
    """
    public, private = storage.renditions(), storage.originals()
    if keys is None:
        keys = (
            Rendition.objects.using(PRIMARY)
            .filter(photo=photo)
            .values_list("storage_key", flat=True)
        )
    keys = set(keys)
    shared = _used_elsewhere(photo.pk, keys, hidden_too=False)
    for key in keys:
        if public.exists(key):
            storage.put(private, storage.hidden_key(photo.pk, key), storage.read(public, key))
            if key not in shared:
                public.delete(key)


def photo_files_publish(*, photo: Photo) -> None:
    """Copy a restored photo's files into a new public folder and point its renditions there.

    Runs in the restore's transaction, with the photo's row locked; the private copies and
    any old public file are deleted once it commits.
    """
    public, private = storage.renditions(), storage.originals()
    token = new_file_token()
    moved: list[Rendition] = []
    old_keys: list[str] = []
    for rendition in Rendition.objects.using(PRIMARY).filter(photo=photo):
        hidden = storage.hidden_key(photo.pk, rendition.storage_key)
        if private.exists(hidden):
            data = storage.read(private, hidden)
        elif public.exists(rendition.storage_key):  # never moved (shared), or a failed hide
            data = storage.read(public, rendition.storage_key)
        else:
            continue  # nothing to publish: the row keeps its key
        old_keys.append(rendition.storage_key)
        rendition.storage_key = storage.moved_key(rendition.storage_key, token)
        storage.put(public, rendition.storage_key, data)
        moved.append(rendition)
    Rendition.objects.bulk_update(moved, ["storage_key"])
    photo.file_token = token
    Photo.objects.filter(pk=photo.pk).update(file_token=token)
    transaction.on_commit(
        lambda: photo_files_drop(photo_id=photo.pk, keys=old_keys), using=PRIMARY, robust=True
    )


def photo_files_drop(*, photo_id: int, keys: Iterable[str]) -> None:
    """Delete rendition files none of the photo's rows use any more (replaced, restored
    elsewhere, or the photo deleted): their private copies, and the public files unless a
    rendition of another photo uses them."""
    keys = list(keys)
    for key in keys:
        storage.delete_quietly(storage.originals(), storage.hidden_key(photo_id, key))
    shared = _used_elsewhere(photo_id, keys, hidden_too=True)
    for key in set(keys) - shared:
        storage.delete_quietly(storage.renditions(), key)


def photos_withdraw_hidden_files() -> int:
    """Move the files of every hidden photo still in the public storage (photos hidden
    before files followed visibility, or whose hide was cut short); the number checked."""
    hidden = Photo.objects.using(PRIMARY).filter(hidden_at__isnull=False)
    count = 0
    for photo_id in list(hidden.values_list("pk", flat=True)):  # ids only: a small list
        with transaction.atomic(using=PRIMARY):
            photo = Photo.objects.select_for_update().filter(pk=photo_id).first()
            if photo is not None and photo.hidden_at is not None:
                photo_files_withdraw(photo=photo)
                count += 1
    return count
