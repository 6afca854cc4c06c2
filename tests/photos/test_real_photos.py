"""The real camera photos in ../shared/data/photos come out upright, stripped, complete."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.photos import imaging, storage
from apps.photos.models import Photo
from apps.photos.services import photo_create, photo_process
from tests.factories import UserFactory

from .conftest import SHARED_DIR, shared_path

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PHOTOS = sorted((SHARED_DIR / "data" / "photos").glob("*.jpg")) or [None]


@pytest.mark.parametrize("path", PHOTOS, ids=lambda p: p.name if p else "missing")
def test_a_camera_photo(path, django_capture_on_commit_callbacks):
    if path is None:
        shared_path("photos")
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as original:
        orientation = imaging.orientation_of(original)
        upright = imaging.upright_size(original.size, orientation)
        had_gps = 0x8825 in original.getexif()

    upload = SimpleUploadedFile(path.name, data)
    photo, _ = photo_create(owner=UserFactory(), upload=upload, size=len(data), name=path.name)
    with django_capture_on_commit_callbacks(execute=True):
        photo_process(photo_id=photo.pk)
    photo.refresh_from_db()

    assert photo.status == Photo.Status.READY, photo.failure_reason
    assert (photo.width, photo.height) == upright
    widths = sorted({r.width for r in photo.renditions.all()})
    assert widths == sorted({min(w, upright[0]) for w in imaging.RENDITION_WIDTHS})
    for rendition in photo.renditions.all():
        rendered = storage.read(storage.renditions(), rendition.storage_key)
        image = Image.open(io.BytesIO(rendered))
        assert image.size == (rendition.width, rendition.height)
        # Upright: the rendition has the upright photo's shape.
        assert abs(image.width / image.height - upright[0] / upright[1]) < 0.01
        assert not image.getexif()
        assert "icc_profile" not in image.info
        assert b"Exif" not in rendered[:4096]
    master = Image.open(io.BytesIO(storage.read(storage.originals(), photo.original_key)))
    assert set(master.getexif()) <= {0x0112}, "only the orientation is kept in the master"
    if had_gps:
        assert 0x8825 not in master.getexif()
