"""The image workers' pipeline: renditions upright, stripped, complete, made once."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.photos import storage
from apps.photos.models import Photo, Rendition
from apps.photos.services import (
    PIPELINE_VERSION,
    photo_create,
    photo_delete,
    photo_encode_avif,
    photo_process,
    photos_reprocess_outdated,
)
from tests.factories import UserFactory

from . import samples
from .conftest import stored_files

pytestmark = pytest.mark.django_db

FORBIDDEN = [b"PINSTABLR-EXIF", b"pinstablr-payload", b"<x:xmpmeta", b"GPS", b"<script"]


def create(data: bytes, owner=None, name: str = "photo.jpg") -> Photo:
    upload = SimpleUploadedFile(name, data)
    photo, _ = photo_create(owner=owner or UserFactory(), upload=upload, size=len(data), name=name)
    return photo


def process(photo: Photo, capture) -> Photo:
    with capture(execute=True):
        photo_process(photo_id=photo.pk)
    return Photo.objects.get(pk=photo.pk)


def open_rendition(rendition: Rendition) -> tuple[Image.Image, bytes]:
    data = storage.read(storage.renditions(), rendition.storage_key)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image, data


def assert_clean(image: Image.Image, data: bytes) -> None:
    for marker in FORBIDDEN:
        assert marker not in data, f"{marker!r} survived"
    assert not image.getexif(), "no EXIF block at all"
    for key in ("comment", "xmp", "exif", "icc_profile"):
        assert key not in image.info


def test_a_photo_comes_out_upright_stripped_in_every_size_and_format(
    django_capture_on_commit_callbacks,
):
    source = samples.jpeg(
        (2600, 1800), orientation=6, gps=True, comment=samples.SCRIPT,
        xmp=b"<x:xmpmeta>secret</x:xmpmeta>", trailer=samples.SCRIPT,
    )  # fmt: skip
    photo = process(create(source), django_capture_on_commit_callbacks)

    assert photo.status == Photo.Status.READY
    assert photo.pipeline_version == PIPELINE_VERSION
    assert (photo.width, photo.height) == (1800, 2600)
    assert photo.placeholder
    assert photo.dominant_color.startswith("#")
    renditions = list(photo.renditions.all())
    assert {(r.width, r.format) for r in renditions} == {
        (w, f) for w in (256, 640, 1280, 1800) for f in ("jpeg", "webp")
    }
    for rendition in renditions:
        image, data = open_rendition(rendition)
        assert image.format == rendition.format.upper()
        assert image.size == (rendition.width, rendition.height)
        assert rendition.height == round(2600 * rendition.width / 1800)
        assert_clean(image, data)
        # The green block drawn at the stored image's top left is at the top right once
        # orientation 6 (rotate 90 degrees clockwise) is applied.
        rgb = image.convert("RGB")
        red, green, _ = rgb.getpixel((rgb.width - 3, 3))
        assert (green > 150, red < 80) == (True, True), "the rendition is upright"


def test_the_stored_master_has_no_metadata_but_keeps_its_orientation(
    django_capture_on_commit_callbacks, photo_storages
):
    source = samples.jpeg(
        (900, 600), orientation=6, gps=True, comment=samples.SCRIPT, trailer=samples.SCRIPT
    )
    photo = process(create(source), django_capture_on_commit_callbacks)
    master = storage.read(storage.originals(), photo.original_key)
    for marker in FORBIDDEN:
        assert marker not in master
    image = Image.open(io.BytesIO(master))
    assert dict(image.getexif()) == {0x0112: 6}
    assert image.size == (900, 600), "the pixels are the original's"
    [only_file] = stored_files(photo_storages["originals"])
    assert only_file.name == f"{photo.sha256}.jpg", "the raw upload is gone once processed"


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("PNG", {}), ("WEBP", {"quality": 90}), ("GIF", {}), ("AVIF", {"quality": 70}), ("HEIF", {})],
)
def test_every_allowed_format_is_processed(fmt, options, django_capture_on_commit_callbacks):
    photo = process(
        create(samples.encoded(fmt, (700, 500), **options), name="x"),
        django_capture_on_commit_callbacks,
    )
    assert photo.status == Photo.Status.READY, photo.failure_reason
    assert photo.source_format == fmt
    assert {(r.width, r.format) for r in photo.renditions.all()} == {
        (w, f) for w in (256, 640, 700) for f in ("jpeg", "webp")
    }


def test_a_png_loses_its_text_chunks_and_trailing_bytes(django_capture_on_commit_callbacks):
    photo = process(
        create(samples.png((300, 200), text=samples.SCRIPT, trailer=samples.SCRIPT), name="x.png"),
        django_capture_on_commit_callbacks,
    )
    assert samples.SCRIPT not in storage.read(storage.originals(), photo.original_key)
    for rendition in photo.renditions.all():
        assert_clean(*open_rendition(rendition))


def test_processing_twice_changes_nothing(django_capture_on_commit_callbacks, photo_storages):
    photo = process(create(samples.jpeg((1500, 1000))), django_capture_on_commit_callbacks)
    before = sorted(photo.renditions.values_list("width", "format", "storage_key"))
    files_before = stored_files(photo_storages["renditions"])

    photo_process(photo_id=photo.pk)  # a duplicate delivery: already done
    Photo.objects.filter(pk=photo.pk).update(pipeline_version=0, status=Photo.Status.PROCESSING)
    photo = process(photo, django_capture_on_commit_callbacks)  # a redelivery after a crash

    assert sorted(photo.renditions.values_list("width", "format", "storage_key")) == before
    assert stored_files(photo_storages["renditions"]) == files_before
    assert Rendition.objects.count() == len(before)


def test_a_file_that_turns_out_corrupt_ends_failed_with_its_reason(
    django_capture_on_commit_callbacks, photo_storages
):
    photo = create(samples.jpeg((800, 600)))
    [stored] = stored_files(photo_storages["originals"])
    stored.write_bytes(samples.truncated(stored.read_bytes(), 0.4))
    photo = process(photo, django_capture_on_commit_callbacks)
    assert photo.status == Photo.Status.FAILED
    assert "corrupt or truncated" in photo.failure_reason
    assert photo.renditions.count() == 0


def test_avif_renditions_come_after_the_photo_is_ready(django_capture_on_commit_callbacks):
    photo = process(create(samples.jpeg((1000, 700))), django_capture_on_commit_callbacks)
    assert not photo.renditions.filter(format="avif").exists()
    photo_encode_avif(photo_id=photo.pk)
    avif = list(photo.renditions.filter(format="avif"))
    assert {r.width for r in avif} == {256, 640, 1000}
    for rendition in avif:
        assert_clean(*open_rendition(rendition))


def test_deleting_a_photo_removes_its_files_but_not_files_another_photo_uses(
    django_capture_on_commit_callbacks, photo_storages
):
    data = samples.jpeg((900, 700))
    mine = process(create(data), django_capture_on_commit_callbacks)
    theirs = process(create(data), django_capture_on_commit_callbacks)
    originals = stored_files(photo_storages["originals"])
    assert len(originals) == 1, "the same upload is stored once"

    def files_of(photo: Photo) -> list:
        keys = photo.renditions.values_list("storage_key", flat=True)
        return sorted(photo_storages["renditions"] / key for key in keys)

    theirs_files = files_of(theirs)
    assert not set(files_of(mine)) & set(theirs_files), "each photo's renditions are its own"
    photo_delete(photo=mine)
    assert stored_files(photo_storages["renditions"]) == theirs_files
    assert stored_files(photo_storages["originals"]) == originals

    photo_delete(photo=theirs)
    assert stored_files(photo_storages["renditions"]) == []
    assert stored_files(photo_storages["originals"]) == []


def test_outdated_photos_are_queued_for_the_current_pipeline(
    django_capture_on_commit_callbacks, images_queue
):
    current = process(create(samples.jpeg((500, 400))), django_capture_on_commit_callbacks)
    old = process(create(samples.jpeg((600, 400))), django_capture_on_commit_callbacks)
    Photo.objects.filter(pk=old.pk).update(pipeline_version=PIPELINE_VERSION - 1)
    images_queue.purge()
    assert photos_reprocess_outdated() == 1
    assert images_queue.count() == 1
    assert Photo.objects.get(pk=current.pk).pipeline_version == PIPELINE_VERSION
