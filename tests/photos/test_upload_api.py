"""Uploading through the REST API: by content, within limits, nothing kept of a bad file."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.photos.models import Photo
from tests.factories import UserFactory

from . import samples
from .conftest import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploader() -> APIClient:
    """An API client signed in as a new user."""
    api = APIClient()
    api.force_authenticate(UserFactory())
    return api


def upload(uploader: APIClient, data: bytes, name: str = "photo.jpg", caption: str = "", **extra):
    file = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return uploader.post(
        "/api/v1/photos/", {"image": file, "caption": caption}, format="multipart", **extra
    )


def test_a_valid_upload_is_stored_pending_and_queued_after_commit(
    uploader, images_queue, photo_storages, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(uploader, samples.jpeg((1200, 900), orientation=6), caption="Dunes")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert (body["width"], body["height"]) == (900, 1200), "upright size from the header"
    assert body["caption"] == "Dunes"
    assert body["renditions"] == []
    assert images_queue.count() == 1
    [stored] = stored_files(photo_storages["originals"])
    photo = Photo.objects.get()
    assert stored.name == photo.sha256, "stored under a key the server made from the content"


def test_the_same_user_uploading_the_same_bytes_gets_the_same_photo(
    uploader, images_queue, photo_storages, django_capture_on_commit_callbacks
):
    data = samples.jpeg()
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(uploader, data)
        again = upload(uploader, data, name="copy.jpg")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Photo.objects.count() == 1
    assert images_queue.count() == 1
    assert len(stored_files(photo_storages["originals"])) == 1


def test_another_user_uploading_the_same_bytes_gets_a_photo_of_their_own(uploader):
    data = samples.jpeg()
    upload(uploader, data)
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert upload(other, data).status_code == 201
    assert Photo.objects.count() == 2


BAD_FILES = {
    "zero bytes": (b"", "photo.jpg", "empty"),
    "truncated JPEG": (samples.truncated(samples.jpeg((640, 480))), "photo.jpg", "damaged"),
    "PNG header declaring 60000x60000": (
        samples.png_bomb_header(),
        "bomb.png",
        "dimensions are too large",
    ),
    "GIF logical screen 65535x65535": (
        samples.gif_logical_screen_bomb(),
        "bomb.gif",
        "dimensions are too large",
    ),
    "PNG with broken pixel data": (samples.png_broken_stream(), "broken.png", "damaged"),
    "PNG with a text bomb": (samples.png_text_bomb(), "text.png", "damaged"),
    "HTML named .jpg": (samples.HTML, "page.jpg", "not a supported image"),
    "SVG with script": (samples.SVG, "logo.svg", "not accepted"),
    "SVG named .png": (samples.SVG, "logo.png", "not a supported image"),
    "TIFF": (samples.encoded("TIFF"), "scan.tif", "not accepted"),
    "TIFF named .jpg": (samples.encoded("TIFF"), "scan.jpg", "not a supported image"),
    "BMP named .jpg": (samples.encoded("BMP"), "old.jpg", "not a supported image"),
    "a JPEG named .php": (samples.jpeg(), "shell.php", "not accepted"),
    "a JPEG named .jpg.php": (samples.jpeg(), "shell.jpg.php", "not accepted"),
    "a JPEG named .pHp": (samples.jpeg(), "shell.pHp", "not accepted"),
    "a JPEG named .htaccess": (samples.jpeg(), ".htaccess", "not accepted"),
    "right-to-left override hiding .php": (samples.jpeg(), "photo_\u202egpj.php", "not accepted"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_with_a_reason_and_leave_nothing_behind(
    case, uploader, images_queue, photo_storages, django_capture_on_commit_callbacks
):
    data, name, reason = BAD_FILES[case]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(uploader, data, name=name)
    assert response.status_code == 400
    assert reason in response.json()["error"]["message"]
    assert response.json()["error"]["code"] != "invalid", "a specific code for programs"
    assert Photo.objects.count() == 0
    assert stored_files(photo_storages["originals"]) == []
    assert images_queue.count() == 0


def test_an_upload_over_the_byte_limit_is_refused_before_the_body_is_read(uploader, settings):
    settings.PINSTABLR_UPLOAD_MAX_BYTES = 100_000
    response = upload(uploader, samples.jpeg((2000, 1500), quality=100))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The upload is 0.3 MB; the limit is 0.1 MB."


def test_an_image_over_the_pixel_limit_is_refused(uploader, settings):
    settings.PINSTABLR_UPLOAD_MAX_PIXELS = 1_000_000
    response = upload(uploader, samples.jpeg((1500, 1000)))
    assert response.status_code == 400
    assert "limit is 1 megapixels" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.jpg", "..\\..\\windows\\win.ini.jpg", "/etc/cron.d/evil.jpg",
        "a" * 300 + ".jpg", "shell.php.jpg", "photo.jpg.", "photo.jpg ", "CON.jpg",
        "<img src=x onerror=alert(1)>.jpg", "file\u0301.jpg", ".jpg", "noextension",
        "invoice\u2066\u202ecod.jpg",
    ],
)  # fmt: skip
def test_hostile_names_of_real_images_are_accepted_but_never_used(name, uploader, photo_storages):
    response = upload(uploader, samples.jpeg(), name=name)
    assert response.status_code == 201, response.json()
    [stored] = stored_files(photo_storages["originals"])
    assert stored.name == Photo.objects.get().sha256
    assert "etc" not in str(stored.relative_to(photo_storages["originals"]))


def test_uploading_needs_a_signed_in_user():
    response = upload(APIClient(), samples.jpeg())
    assert response.status_code in (401, 403)
    assert Photo.objects.count() == 0


def test_a_request_without_a_file_says_so(uploader):
    response = uploader.post("/api/v1/photos/", {"caption": "no file"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "No file was submitted. Choose a photo to upload."
    assert "image" in response.json()["error"]["fields"]
