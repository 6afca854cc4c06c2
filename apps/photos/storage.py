"""Where photo files live: private originals, public immutable renditions.

Every key is made by the server from a content hash, never from a client's file name, so
writing the same file twice is harmless and a key names exactly one content forever.
"""

from __future__ import annotations

import hashlib
import mimetypes

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

mimetypes.add_type("image/avif", ".avif")
mimetypes.add_type("image/webp", ".webp")

EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}


def originals() -> Storage:
    """Private: uploads as received, and their metadata-free masters."""
    return storages["originals"]


def renditions() -> Storage:
    """Public and immutable: served with far-future cache headers."""
    return storages["renditions"]


def upload_key(sha256: str) -> str:
    return f"uploads/{sha256[:2]}/{sha256}"


def original_key(sha256: str, extension: str) -> str:
    return f"originals/{sha256[:2]}/{sha256}.{extension}"


def rendition_key(data: bytes, fmt: str) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest}.{EXTENSIONS[fmt]}"


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
