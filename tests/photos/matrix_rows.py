"""The photos app's rows of the permission matrix (tests/test_permission_matrix.py).

World: ``hidden_photo`` (the ``owner`` role's, hidden by a moderator) with one rendition file
kept privately, as hiding leaves it. Its file is for its owner and the moderators only; to
everyone else it does not exist.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.photos import storage
from tests.factories import PhotoFactory
from tests.permission_rows import Row

PUBLIC: set[str] = set()

NOBODY_ELSE = dict.fromkeys(
    ("anonymous", "user", "author", "marketing", "marketing_ungranted", "ux_owner", "ux_other"),
    404,
)


def populate_world(world: Any) -> None:
    photo = PhotoFactory(owner=world.owner, hidden_at=timezone.now(), hidden_reason="Spam")
    rendition = photo.renditions.first()
    data = b"RIFF-not-really-an-image"
    rendition.storage_key = storage.rendition_key(photo.file_token, data, "webp")
    rendition.save()
    storage.put(storage.originals(), storage.hidden_key(photo.pk, rendition.storage_key), data)
    world.hidden_photo, world.hidden_file = photo, rendition.storage_key


def hidden_file(world: Any) -> dict[str, Any]:
    return {"photo_id": world.hidden_photo.pk, "key": world.hidden_file}


ROWS = [
    Row("photos:hidden-file", "get", {**NOBODY_ELSE, "owner": 200, "ops": 200, "admin": 200},
        kwargs=hidden_file),
]  # fmt: skip
