"""The image engine: decode safely, make renditions, placeholder and dominant colour.

Pure functions over bytes and Pillow images; no Django models, no storage. The web process
uses only :func:`open_image` and :func:`orientation_of` (cheap, header-level); the workers
use the rest.

Speed choices (measured in bench/images.py): JPEG sources are decoded at a reduced DCT scale
(``draft``) when the largest rendition allows it; renditions cascade from the largest to the
smallest, so each resize starts from the smallest image that still has enough pixels; every
metadata block is dropped by clearing ``im.info`` (Pillow would otherwise copy JPEG comments
and ICC profiles into the output) after converting colours to sRGB.
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass

import thumbhash
from django.conf import settings
from PIL import Image, ImageCms, UnidentifiedImageError

# JPEG includes MPO (multi-picture camera files), which Pillow opens through the JPEG plugin.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "HEIF", "AVIF")
RENDITION_WIDTHS = (256, 640, 1280, 2048)
# Same settings for every engine compared in bench/images.py.
JPEG_OPTIONS = {"quality": 85, "optimize": False, "progressive": False}
WEBP_OPTIONS = {"quality": 80, "method": 4}
AVIF_OPTIONS = {"quality": 60, "speed": 8}
MASTER_JPEG_OPTIONS = {"quality": 95, "subsampling": 0}
# EXIF orientation -> the transpose that makes the image upright.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SRGB = ImageCms.createProfile("sRGB")


class CorruptImage(Exception):
    """The file claims to be an image but cannot be decoded: a permanent failure."""


@dataclass(frozen=True)
class Encoded:
    """One encoded rendition."""

    width: int
    height: int
    format: str  # "jpeg", "webp" or "avif"
    data: bytes


@dataclass(frozen=True)
class Rendered:
    """What the pipeline makes of one source image."""

    width: int
    height: int
    renditions: list[Encoded]
    placeholder: str
    dominant_color: str


def configure_pillow() -> None:
    """Process-wide Pillow limits: the pixel cap, and bombs as errors rather than warnings."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    Image.MAX_IMAGE_PIXELS = settings.PINSTABLR_UPLOAD_MAX_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def open_image(data: bytes | io.BytesIO) -> Image.Image:
    """Open an image by content, only if its format is on the allow-list (header only)."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return Image.open(source, formats=ALLOWED_FORMATS)


def orientation_of(image: Image.Image) -> int:
    """The EXIF orientation (1-8); 1 when the EXIF block is missing or corrupt."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """(width, height) once the orientation is applied."""
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def rendition_widths(upright_width: int) -> list[int]:
    """Widths to make, largest first; never wider than the source (no upscaling)."""
    return sorted({min(width, upright_width) for width in RENDITION_WIDTHS}, reverse=True)


def _to_srgb_rgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB: embedded colour profiles converted, transparency flattened on white."""
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode not in ("RGB", "CMYK"):
        image = image.convert("RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, SRGB, outputMode="RGB") or image
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def decode_upright(data: bytes, *, max_width: int | None = None) -> Image.Image:
    """Decode fully, upright and in sRGB, with no metadata left in ``info``.

    With ``max_width``, a JPEG is decoded at the smallest DCT scale that still gives at
    least that many upright pixels across, which is most of the saving on camera photos.
    """
    try:
        image = open_image(data)
        if image.format in ("JPEG", "MPO"):
            # A JPEG's EXIF is read without decoding, so the draft size can depend on it.
            orientation = orientation_of(image)
            width, height = upright_size(image.size, orientation)
            if max_width and width > max_width:
                wanted = (max_width, max(1, round(height * max_width / width)))
                image.draft("RGB", upright_size(wanted, orientation))
            image.load()
        else:
            # Other formats may decode while reading EXIF and swallow the error: decode first.
            image.load()
            orientation = orientation_of(image)
        upright = _to_srgb_rgb(image)
        if orientation in TRANSPOSE:
            upright = upright.transpose(TRANSPOSE[orientation])
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise CorruptImage(f"The image data is corrupt or truncated ({error}).") from error
    upright.info = {}
    return upright


def encode(image: Image.Image, fmt: str) -> bytes:
    """Encode with the product's settings and no metadata at all."""
    buffer = io.BytesIO()
    image.info = {}
    if fmt == "jpeg":
        image.save(buffer, "JPEG", **JPEG_OPTIONS)
    elif fmt == "webp":
        image.save(buffer, "WEBP", **WEBP_OPTIONS)
    elif fmt == "avif":
        image.save(buffer, "AVIF", **AVIF_OPTIONS)
    else:
        raise ValueError(f"unknown rendition format {fmt!r}")
    return buffer.getvalue()


def resize_cascade(base: Image.Image, widths: list[int]) -> list[Image.Image]:
    """One image per width (largest first), each resized from the previous one."""
    images: list[Image.Image] = []
    current = base
    for width in widths:
        height = max(1, round(base.height * width / base.width))
        if (width, height) != current.size:
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        images.append(current)
    return images


def placeholder_of(image: Image.Image) -> str:
    """A ThumbHash (base64) of the image: a blurred preview in about 25 bytes."""
    # 64 px is plenty for a hash of about 25 bytes, and a third of the work of 100 px.
    small = image.copy()
    small.thumbnail((64, 64))
    rgba = small.convert("RGBA")
    hashed = thumbhash.rgba_to_thumb_hash(rgba.width, rgba.height, list(rgba.tobytes()))
    return base64.b64encode(bytes(hashed)).decode("ascii")


def dominant_color_of(image: Image.Image) -> str:
    """The most common colour cluster, as #rrggbb."""
    small = image.resize((64, 64), Image.Resampling.BOX).quantize(
        colors=6, method=Image.Quantize.FASTOCTREE
    )
    _, index = max(small.getcolors() or [(1, 0)])
    palette = small.getpalette() or [0, 0, 0]
    start = int(index) * 3  # type: ignore[call-overload]  # a palette image's colours are ints
    red, green, blue = palette[start : start + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def render(data: bytes, *, formats: tuple[str, ...] = ("webp", "jpeg")) -> Rendered:
    """The whole rendition set of one source image."""
    base = decode_upright(data, max_width=max(RENDITION_WIDTHS))
    with open_image(data) as header:
        full_width, full_height = upright_size(header.size, orientation_of(header))
    sized = resize_cascade(base, rendition_widths(base.width))
    del base  # the full-size decode is not needed for the encodes: free it (bench/README.md)
    renditions = [
        Encoded(image.width, image.height, fmt, encode(image, fmt))
        for image in sized
        for fmt in formats
    ]
    return Rendered(
        width=full_width,
        height=full_height,
        renditions=renditions,
        placeholder=placeholder_of(sized[-1]),
        dominant_color=dominant_color_of(sized[-1]),
    )


def clean_master(data: bytes, source_format: str) -> tuple[bytes, str]:
    """The original without metadata, and its extension.

    JPEG, PNG and WebP keep their exact pixels: metadata blocks are cut out of the file.
    Other formats (GIF, HEIF, AVIF) are stored re-encoded: GIF as lossless PNG (first
    frame), HEIF and AVIF as high-quality JPEG.
    """
    from . import metadata

    with open_image(data) as header:
        orientation = orientation_of(header)
    stripped = metadata.strip(data, source_format, orientation)
    if stripped is not None:
        return stripped
    image = decode_upright(data)
    buffer = io.BytesIO()
    if source_format == "GIF":
        image.save(buffer, "PNG")
        return buffer.getvalue(), "png"
    image.save(buffer, "JPEG", **MASTER_JPEG_OPTIONS)
    return buffer.getvalue(), "jpg"
