"""Every file in ../shared/data/hostile/ gets the behaviour its MANIFEST.tsv row expects.

The expectation for each file is written here, with the reason a person is told; the test
also checks that the manifest's own verdict (ACCEPT or REJECT) agrees with it. Accepted
files are processed by the pipeline and must come out with no payload in any stored file.
"""

from __future__ import annotations

import csv
import json

import pytest
from rest_framework.test import APIClient

from apps.photos import storage
from apps.photos.models import Photo
from tests.factories import UserFactory

from .conftest import shared_path, stored_files
from .multipart import body_with_file

pytestmark = pytest.mark.django_db

PHP_MARKER = b"PINSTABLR-HOSTILE-CORPUS-PHP-EXECUTED"
PAYLOADS = [PHP_MARKER, b"<script", b"<html", b"<?php", b"GPS"]

# file -> None (accepted) or the words the 400 must contain
FILES: dict[str, str | None] = {
    "valid_small.jpg": None,
    "empty.jpg": "empty",
    "truncated_half.jpg": "damaged",
    "bomb_png_60000x60000_header.png": "dimensions are too large",
    "bomb_jpeg_sof_65500x65500.jpg": "dimensions are too large",
    "bomb_gif_logical_screen_65535.gif": "dimensions are too large",
    "polyglot_jpeg_html.jpg": None,
    "polyglot_png_html.png": None,
    "svg_with_script.svg": "not accepted",
    "svg_billion_laughs.svg": "not accepted",
    "html_renamed.jpg": "not a supported image",
    "valid_multipage.tif": "not accepted",
    "php_marker_in_comment.jpg": None,
    "png_disguised_as.jpg": None,
    "htaccess_payload.txt": "not accepted",
    "pillow_decompression_bomb.gif": "dimensions are too large",
    "pillow_png_decompression_dos.png": "damaged",
    "pillow_truncated_jpeg.jpg": "damaged",
    "pillow_broken_data_stream.png": "damaged",
    "pillow_crash-2020-10-test.tif": "not accepted",
    "pillow_oom-225817ca0f8c663be7ab4b9e717b02c661e66834.tif": "not accepted",
    "pillow_tiff_overflow_rows_per_strip.tif": "not accepted",
    "pillow_crash-465703f71a0f0094873a3e0e82c9f798161171b8.sgi": "not accepted",
    "pillow_crash-4fb027452e6988530aa5dabee76eecacb3b79f8a.j2k": "not accepted",
    "pillow_crash-5762152299364352.fli": "not accepted",
    "pillow_cross_scan_line_truncated.tga": "not accepted",
    "pillow_non_zero_bb.eps": "not accepted",
    "pillow_hopper_bad_exif.jpg": None,
    "pillow_exif_gps.jpg": None,
    "pillow_hopper.heif": None,
}
# Files whose content is on no allow-list must also be refused by content, under a .jpg name.
NOT_IMAGES_BY_CONTENT = [
    name
    for name, reason in FILES.items()
    if reason == "not accepted" and name != "htaccess_payload.txt"
]
# hostile_filenames.json index -> None (accepted) or the words the 400 must contain
FILE_NAMES: dict[int, str | None] = {
    0: None, 1: None, 2: None, 3: None,
    # Django's parser drops non-printable characters (NUL, bidi controls) from names; what
    # is left is judged like any other name.
    4: None, 5: None,
    6: "ending in .php", 7: None,
    8: "ending in .htaccess", 9: None, 10: "ending in .php", 11: "ending in .php",
    12: None, 13: None, 14: None, 15: None, 16: None,
    17: "No file was submitted", 18: None, 19: None,
}  # fmt: skip


def manifest() -> dict[str, dict[str, str]]:
    path = shared_path("hostile", "MANIFEST.tsv")
    with path.open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


def manifest_verdict(row: dict[str, str]) -> str:
    text = row["expected_behaviour"].upper()
    if text.startswith("REJECT"):
        return "REJECT"
    if text.startswith(("ACCEPT", "AS *.JPG: ACCEPT", "SAME POLICY AS HEIC")):
        return "ACCEPT"
    return "EITHER"  # rows that allow either ("REJECT 400 or normalise", ...)


@pytest.fixture
def uploader() -> APIClient:
    """An API client signed in as a new user."""
    api = APIClient()
    api.force_authenticate(UserFactory())
    return api


def send(uploader: APIClient, filename: str, data: bytes):
    body, content_type = body_with_file(filename, data)
    return uploader.generic("POST", "/api/v1/photos/", body, content_type=content_type)


def assert_nothing_kept(photo_storages, images_queue) -> None:
    assert Photo.objects.count() == 0
    assert stored_files(photo_storages["originals"]) == []
    assert images_queue.count() == 0


def assert_processed_clean(photo_storages, capture) -> None:
    from apps.photos.services import photo_process

    photo = Photo.objects.get()
    with capture(execute=True):
        photo_process(photo_id=photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY, photo.failure_reason
    files = stored_files(photo_storages["renditions"]) + stored_files(photo_storages["originals"])
    assert len(files) == photo.renditions.count() + 1
    for path in files:
        content = path.read_bytes()
        for payload in PAYLOADS:
            assert payload not in content, f"{payload!r} survived in {path.name}"
    assert storage.read(storage.originals(), photo.original_key)


def test_the_manifest_and_this_table_cover_the_same_files():
    rows = manifest()
    assert {name for name in rows if not name.startswith("hostile_filenames")} == set(FILES)
    for name, reason in FILES.items():
        verdict = manifest_verdict(rows[name])
        assert verdict in ("EITHER", "ACCEPT" if reason is None else "REJECT"), name


@pytest.mark.parametrize("name", list(FILES))
def test_hostile_file(
    name, uploader, photo_storages, images_queue, django_capture_on_commit_callbacks
):
    data = shared_path("hostile", name).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = send(uploader, name, data)
    assert response.status_code < 500
    assert PHP_MARKER not in response.content
    reason = FILES[name]
    if reason is None:
        assert response.status_code == 201, response.json()
        assert_processed_clean(photo_storages, django_capture_on_commit_callbacks)
    else:
        assert response.status_code == 400
        assert reason in response.json()["error"]["message"]
        assert_nothing_kept(photo_storages, images_queue)


@pytest.mark.parametrize("name", NOT_IMAGES_BY_CONTENT)
def test_a_file_of_a_format_off_the_allow_list_is_refused_by_content(
    name, uploader, photo_storages, images_queue
):
    response = send(uploader, "innocent.jpg", shared_path("hostile", name).read_bytes())
    assert response.status_code == 400
    assert "not a supported image" in response.json()["error"]["message"]
    assert_nothing_kept(photo_storages, images_queue)


def hostile_names() -> list[dict[str, str]]:
    return json.loads(shared_path("hostile", "hostile_filenames.json").read_text())


@pytest.mark.parametrize("index", list(FILE_NAMES))
def test_hostile_file_name(
    index, uploader, photo_storages, images_queue, django_capture_on_commit_callbacks
):
    entry = hostile_names()[index]
    filename = bytes.fromhex(entry["filename_utf8_hex"]).decode("utf-8")
    data = shared_path("hostile", entry["suggested_content_file"]).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = send(uploader, filename, data)
    assert response.status_code < 500
    assert PHP_MARKER not in response.content
    reason = FILE_NAMES[index]
    if reason is None:
        assert response.status_code == 201, response.json()
        [stored] = stored_files(photo_storages["originals"])
        assert stored.name == Photo.objects.get().sha256, "the key is the server's, not the name"
        assert_processed_clean(photo_storages, django_capture_on_commit_callbacks)
    else:
        assert response.status_code == 400
        assert reason in response.json()["error"]["message"]
        assert_nothing_kept(photo_storages, images_queue)
