"""Where photo files live: private originals, public immutable renditions.

Every key is made by the server, never from a client's file name. Originals are named by the
hash of their content, so writing the same file twice is harmless. A rendition is named by
the hash of its content inside its photo's own folder, named by a random token (the photo's
``file_token``): the same bytes of the same photo are written once, and a photo's files are
its own, so hiding or deleting one photo never touches another's (services/files.py). While
a photo is hidden its renditions are kept in the private storage under ``hidden_key``.
"""

from __future__ import annotations

import hashlib
import mimetypes
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.urls import reverse

if TYPE_CHECKING:
    from .models import Photo, Rendition

mimetypes.add_type("image/avif", ".avif")
mimetypes.add_type("image/webp", ".webp")

EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}


def originals() -> Storage:
    """Private: uploads as received, and their metadata-free masters."""
    return storages["originals"]


def renditions() -> Storage:
    """Public and immutable: the renditions of visible photos, served with long cache headers."""
    return storages["renditions"]


def upload_key(sha256: str) -> str:
    return f"uploads/{sha256[:2]}/{sha256}"


def original_key(sha256: str, extension: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}.{extension}"


def rendition_key(token: str, data: bytes, fmt: str) -> str:
    """The key of rendition bytes ``data`` in the folder of the photo's ``token``."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{token[:2]}/{token}/{digest}.{EXTENSIONS[fmt]}"


def moved_key(key: str, token: str) -> str:
    """Rendition ``key`` (of either shape) moved to the folder of ``token``."""
    return f"{token[:2]}/{token}/{key.rsplit('/', 1)[-1]}"


def hidden_key(photo_id: int, key: str) -> str:
    """Where rendition ``key`` of a hidden photo is kept, in the private storage."""
    return f"hidden/{photo_id}/{key}"


def rendition_url(photo: Photo, rendition: Rendition) -> str:
    """The public URL of a visible photo's rendition; for a hidden photo, the checked route
    only its owner and the moderators get the file from."""
    if photo.hidden_at is not None:
        return reverse(
            "photos:hidden-file", kwargs={"photo_id": photo.pk, "key": rendition.storage_key}
        )
    return renditions().url(rendition.storage_key)


def put(storage: Storage, key: str, data: bytes) -> None:
    """Write ``data`` under exactly ``key`` (content-addressed, so an existing copy is equal)."""
    if storage.exists(key):
        return
    saved = storage.save(key, ContentFile(data))
    if saved != key:  # a storage that renames instead of overwriting would break the scheme
        storage.delete(saved)
        raise OSError(f"storage renamed {key!r} to {saved!r}; it must allow overwrites")


def read(storage: Storage, key: str) -> bytes:
    with storage.open(key, "rb") as handle:
        return handle.read()


def delete_quietly(storage: Storage, key: str) -> None:
    if key and storage.exists(key):
        storage.delete(key)
