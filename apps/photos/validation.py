"""Upload checks in the web process: cheap, by content, with reasons a person can act on.

The web process never resizes. It reads the header (type from the bytes against an
allow-list, dimensions), checks bytes and pixels against the limits, and checks the pixel
data once to reject truncated or corrupt files, within a memory budget of its own: JPEGs are
decoded at 1/8 scale (which still reads every byte of the compressed data for a fraction of
the cost), other images are decoded only up to ``PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS``.
Above it a PNG is checked as a stream without its pixels in memory (pngcheck.py), and the
other formats are left to the image workers, which decode them with the memory they are
sized for and mark a photo that fails ``failed`` with the reason. A lossless file compresses
flat colour about 1000:1, so without the budget a 150 KB PNG of 7000x7000 pixels cost the
web process 190 MB.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from .imaging import open_image, orientation_of, upright_size
from .pngcheck import check_png

ALLOWED_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "heic", "heif", "avif"}
)
ACCEPTED_TYPES = "JPEG, PNG, WebP, GIF, HEIC or AVIF"
# Invisible characters that make "photo_\u202egpj.php" display as "photo_php.jpg".
BIDI_CONTROLS = dict.fromkeys(
    [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None
)


def megabytes(count: int) -> str:
    """25000000 -> "25", 100000 -> "0.1": a limit as people write it."""
    return f"{count / 1e6:g}"


class UploadRejected(Exception):
    """An upload that will not be stored; ``message`` says why and what to do instead."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProbedUpload:
    data: bytes
    sha256: str
    format: str
    width: int  # upright
    height: int


def check_file_name(name: str | None) -> None:
    """Refuse names that try to smuggle an executable or control characters.

    The name is never used to store anything (keys are made by the server); this only turns
    away uploads whose name says they are something other than a photo.
    """
    if not name:
        return
    visible = unicodedata.normalize("NFC", name).translate(BIDI_CONTROLS)
    if any(unicodedata.category(char) == "Cc" for char in visible):
        raise UploadRejected(
            "invalid_file_name", "The file name contains control characters; rename the file."
        )
    base = visible.replace("\\", "/").rsplit("/", 1)[-1].rstrip(". ")
    if "." not in base:
        return  # no extension: the type is decided by content
    extension = base.rsplit(".", 1)[1].lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise UploadRejected(
            "extension_not_allowed",
            f"Files ending in .{extension[:20]} are not accepted. Upload a {ACCEPTED_TYPES} photo.",
        )


def probe_upload(upload: IO[bytes], *, size: int) -> ProbedUpload:
    """Read and check an uploaded file; raise :class:`UploadRejected` with the reason."""
    max_bytes = settings.PINSTABLR_UPLOAD_MAX_BYTES
    if size == 0:
        raise UploadRejected("empty_file", "The file is empty. Choose a photo to upload.")
    if size > max_bytes:
        raise UploadRejected(
            "file_too_large",
            f"The file is {size / 1e6:.1f} MB; the limit is {megabytes(max_bytes)} MB.",
        )
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRejected("file_too_large", f"The limit is {megabytes(max_bytes)} MB.")
    if not data:
        raise UploadRejected("empty_file", "The file is empty. Choose a photo to upload.")
    image = _open_checked(data)
    with image:
        image_format, size_in_header = image.format or "", image.size
        # Check before reading EXIF: for some formats reading EXIF decodes the pixels and
        # would swallow the error that must reject the file.
        _check_pixel_data(image, data)
        width, height = upright_size(size_in_header, orientation_of(image))
    return ProbedUpload(
        data=data, sha256=hashlib.sha256(data).hexdigest(), format=image_format,
        width=width, height=height,
    )  # fmt: skip


def _too_large(pixels: int | None = None) -> UploadRejected:
    limit = settings.PINSTABLR_UPLOAD_MAX_PIXELS
    detail = f" ({pixels / 1e6:,.0f} megapixels)" if pixels else ""
    return UploadRejected(
        "dimensions_too_large",
        f"The image dimensions are too large{detail}; the limit is {megabytes(limit)} megapixels.",
    )


def _open_checked(data: bytes) -> Image.Image:
    try:
        image = open_image(data)
    except UnidentifiedImageError as error:
        raise UploadRejected(
            "unsupported_type",
            f"This is not a supported image. Upload a {ACCEPTED_TYPES} photo.",
        ) from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_large() from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise UploadRejected(
            "corrupt_image", "The image is damaged and cannot be read. Try exporting it again."
        ) from error
    pixels = image.size[0] * image.size[1]
    if pixels > settings.PINSTABLR_UPLOAD_MAX_PIXELS:
        image.close()
        raise _too_large(pixels)
    return image


def _check_pixel_data(image: Image.Image, data: bytes) -> None:
    """Reject truncated or corrupt pixel data, within the web process's decode budget."""
    try:
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
            image.load()
        elif image.size[0] * image.size[1] <= settings.PINSTABLR_UPLOAD_WEB_DECODE_MAX_PIXELS:
            image.load()
        elif image.format == "PNG":
            # Pillow reads an eXIf chunk that follows the image data only by decoding the
            # image: hand it the chunk (or its absence) so reading the orientation does not.
            image.info.setdefault("exif", check_png(data) or b"")
        # Other formats over the budget: the image workers decode them.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_large() from error
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as error:  # BrokenPng too
        raise UploadRejected(
            "corrupt_image",
            "The image is damaged or incomplete and cannot be read. Try exporting it again.",
        ) from error
