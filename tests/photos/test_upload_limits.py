"""What one upload may cost the web process, and how many photos one user may have waiting.

The web process decodes an upload whole only up to PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS;
a larger PNG is checked as a stream, so a 150 KB PNG of 7000x7000 pixels no longer costs it
190 MB (measured here, in a process of its own, by its peak resident size).
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from apps.photos.models import Photo
from apps.photos.services import photo_process
from pinstablr.db.config import PRIMARY
from tests.factories import PhotoFactory, UserFactory
from tests.processes import REPO

from . import samples
from .conftest import stored_files

pytestmark = pytest.mark.django_db

MIB = 1024 * 1024


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def flat_png(width: int, height: int, *, cut_rows: int = 0, filter_type: int = 0) -> bytes:
    """A flat-colour RGB PNG, made a row at a time (never the whole image in memory): about
    1000:1 compressed, the shape of a hostile lossless upload. ``cut_rows`` leaves rows out
    of the image data; ``filter_type`` starts every row with that filter byte."""
    compressor = zlib.compressobj(9)
    row = bytes([filter_type]) + bytes(width * 3)
    idat = b"".join(compressor.compress(row) for _ in range(height - cut_rows))
    idat += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )  # fmt: skip


def bad_idat_checksum(data: bytes) -> bytes:
    end = data.index(b"IEND") - 4  # the image data's CRC is the 4 bytes before IEND's length
    return data[: end - 1] + bytes([data[end - 1] ^ 0xFF]) + data[end:]


def upload(user, data: bytes, name: str = "photo.png"):
    client = APIClient()
    client.force_authenticate(user)
    file = SimpleUploadedFile(name, data, content_type="image/png")
    return client.post("/api/v1/photos/", {"image": file}, format="multipart")


# --- the web process's decode budget ----------------------------------------------------

# The peak resident size of the process (VmHWM, in KiB): its own, where ru_maxrss would
# start from the peak of the pytest process that started it (Linux carries it over exec).
PEAK_SCRIPT = textwrap.dedent(
    """
    import io, json, sys
    import django
    django.setup()
    from django.conf import settings
    from apps.photos.validation import UploadRejected, probe_upload

    def peak_kib():
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1])

    settings.PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS = int(sys.argv[2])
    data = open(sys.argv[1], "rb").read()
    before = peak_kib()
    try:
        probed = probe_upload(io.BytesIO(data), size=len(data))
        verdict = [probed.width, probed.height]
    except UploadRejected as error:
        verdict = error.code
    after = peak_kib()
    print(json.dumps({"growth_kib": after - before, "verdict": verdict, "before_kib": before}))
    """
)


def peak_growth(path, budget: int) -> tuple[float, object]:
    """How far the web check of the file raises a fresh process's peak RSS (MiB), and what
    it decides."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pinstablr.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(path), str(budget)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return measured["growth_kib"] / 1024, measured


def test_a_7000x7000_png_is_checked_without_its_190_mb_of_pixels(tmp_path, settings):
    data = flat_png(7000, 7000)
    assert len(data) < 200_000, "small on disk"
    path = tmp_path / "flat.png"
    path.write_bytes(data)

    growth, details = peak_growth(path, settings.PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS)
    assert details["verdict"] == [7000, 7000]
    assert growth < 16, f"the web check grew the process by {growth:.0f} MiB"

    # The same check allowed to decode the whole image: what the budget saves.
    whole, details = peak_growth(path, 50_000_000)
    assert whole > 150, f"a whole decode grew the process by only {whole:.0f} MiB: {details}"


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("rows missing", flat_png(300, 200, cut_rows=5)),
        ("an unknown row filter", flat_png(300, 200, filter_type=9)),
        ("image data that is not zlib", samples.png_broken_stream()),
        ("a file cut short", samples.truncated(samples.png((300, 200)), 0.6)),
        ("a bad checksum on its image data", bad_idat_checksum(samples.png((300, 200)))),
    ],
)
def test_a_png_over_the_budget_is_still_refused_when_damaged(case, data, settings):
    settings.PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS = 100  # every test image is over it
    response = upload(UserFactory(), data)
    assert response.status_code == 400, case
    assert response.json()["error"]["code"] == "corrupt_image"
    assert Photo.objects.count() == 0


@pytest.mark.parametrize(
    "mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"], ids=lambda mode: f"mode {mode}"
)
@pytest.mark.parametrize("interlace", [0, 1], ids=["plain", "interlaced"])
def test_a_png_over_the_budget_of_any_pixel_format_is_accepted_as_pillow_would(
    mode, interlace, settings
):
    settings.PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS = 100
    image = samples.photo((123, 45)).convert("I" if mode == "I;16" else mode)
    buffer = io.BytesIO()
    (image.convert("I;16") if mode == "I;16" else image).save(buffer, "PNG", interlace=interlace)
    response = upload(UserFactory(), buffer.getvalue())
    assert response.status_code == 201, response.json()
    assert (response.json()["width"], response.json()["height"]) == (123, 45)


def test_a_png_over_the_budget_is_upright_from_an_exif_block_after_its_pixels(settings):
    settings.PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS = 100
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate: the upright photo is taller than wide
    data = samples.png((120, 40))
    end = data.rindex(b"IEND") - 4
    data = data[:end] + chunk(b"eXIf", exif.tobytes()) + data[end:]  # after the image data
    response = upload(UserFactory(), data)
    assert response.status_code == 201, response.json()
    assert (response.json()["width"], response.json()["height"]) == (40, 120)


def test_a_damaged_webp_over_the_budget_is_left_to_the_image_workers(
    settings, django_capture_on_commit_callbacks
):
    settings.PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS = 100
    data = samples.encoded("WEBP", (400, 300), quality=90)
    middle = len(data) // 2  # a damaged bitstream: the header still opens
    damaged = bytes(byte ^ 0x5A for byte in data[middle : middle + 200])
    data = data[:middle] + damaged + data[middle + 200 :]
    response = upload(UserFactory(), data, name="photo.webp")
    assert response.status_code == 201, response.json()  # not decoded by the web process
    with django_capture_on_commit_callbacks(execute=True):
        photo_process(photo_id=response.json()["id"])
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.FAILED
    assert "corrupt or truncated" in photo.failure_reason


# --- photos waiting for the image workers -----------------------------------------------


def test_over_the_pending_limit_an_upload_is_refused_with_429_and_nothing_is_kept(
    settings, photo_storages, images_queue, django_capture_on_commit_callbacks
):
    settings.PINSTABLR_UPLOAD_MAX_PENDING_PER_USER = 2
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for size in ((64, 48), (65, 48)):
            assert upload(user, samples.png(size)).status_code == 201
        refused = upload(user, samples.png((66, 48)))
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "too_many_pending_uploads"
    assert error["message"].startswith("You have 2 photos waiting to be processed")
    assert Photo.objects.count() == 2
    assert len(stored_files(photo_storages["originals"])) == 2
    assert images_queue.count() == 2

    assert upload(UserFactory(), samples.png((66, 48))).status_code == 201, "others may"


def test_photos_being_processed_count_and_ready_or_failed_ones_do_not(settings):
    settings.PINSTABLR_UPLOAD_MAX_PENDING_PER_USER = 2
    user = UserFactory()
    PhotoFactory(owner=user, status=Photo.Status.PROCESSING)
    PhotoFactory(owner=user, status=Photo.Status.PENDING)
    assert upload(user, samples.png()).status_code == 429
    Photo.objects.filter(owner=user, status=Photo.Status.PENDING).update(status="ready")
    PhotoFactory(owner=user, status=Photo.Status.FAILED)
    assert upload(user, samples.png()).status_code == 201


def test_a_refusal_under_the_lock_deletes_the_upload_it_stored(
    settings, photo_storages, monkeypatch
):
    """Two uploads at once both pass the first count; the second count, under a lock of
    the user's row, refuses one of them after its file was stored: the file goes too."""
    from apps.photos.services import upload as upload_service

    settings.PINSTABLR_UPLOAD_MAX_PENDING_PER_USER = 1
    user = UserFactory()
    counts = []
    real_check = upload_service._check_pending

    def check(owner, *, using=None):
        counts.append(using)
        if using is not None:  # the other upload commits between the two counts
            PhotoFactory(owner=owner, status=Photo.Status.PENDING)
        real_check(owner, using=using)

    monkeypatch.setattr(upload_service, "_check_pending", check)
    response = upload(user, samples.png())
    assert response.status_code == 429
    assert counts == [None, PRIMARY]
    assert stored_files(photo_storages["originals"]) == []
