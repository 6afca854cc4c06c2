"""Images made on the spot, so the upload and pipeline tests run without ../shared."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

SCRIPT = b"<script>alert('pinstablr-payload')</script>"


def photo(
    size: tuple[int, int] = (800, 600), color: tuple[int, int, int] = (200, 80, 40)
) -> Image.Image:
    """An image with structure (a gradient and a block), so resizes and rotations show."""
    image = Image.new("RGB", size, color)
    width, height = size
    for x in range(0, width, max(1, width // 50)):
        image.paste((x * 255 // width, 90, 255 - x * 255 // width), (x, 0, x + 2, height))
    image.paste((10, 200, 30), (0, 0, width // 4, height // 4))  # a green top-left corner
    return image


def jpeg(
    size: tuple[int, int] = (800, 600),
    *,
    orientation: int = 1,
    gps: bool = False,
    comment: bytes | None = None,
    xmp: bytes | None = None,
    trailer: bytes = b"",
    quality: int = 90,
) -> bytes:
    """A JPEG with optional EXIF orientation, GPS position, comment, XMP and trailing bytes."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010E] = "PINSTABLR-EXIF-DESCRIPTION"
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 22.0, 0.0), 3: "E", 4: (4.0, 53.0, 0.0)}
    options: dict[str, object] = {"exif": exif.tobytes(), "quality": quality}
    if comment is not None:
        options["comment"] = comment
    if xmp is not None:
        options["xmp"] = xmp
    buffer = io.BytesIO()
    photo(size).save(buffer, "JPEG", **options)
    return buffer.getvalue() + trailer


def png(
    size: tuple[int, int] = (64, 48), *, text: bytes | None = None, trailer: bytes = b""
) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if text is not None:
        info.add_text("Comment", text.decode())
    buffer = io.BytesIO()
    photo(size).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue() + trailer


def encoded(fmt: str, size: tuple[int, int] = (320, 240), **options: object) -> bytes:
    buffer = io.BytesIO()
    image = photo(size)
    if fmt == "GIF":
        image = image.convert("P")
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb_header(width: int = 60000, height: int = 60000) -> bytes:
    """A tiny PNG whose header declares billions of pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def png_text_bomb() -> bytes:
    """A 1x1 PNG with a compressed text chunk that inflates past Pillow's text limit."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    ztxt = b"Comment\x00\x00" + zlib.compress(b"A" * 20_000_000, 9)
    idat = zlib.compress(b"\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"zTXt", ztxt)
        + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )  # fmt: skip


def gif_logical_screen_bomb() -> bytes:
    """A 1x1 GIF frame on a 65535x65535 logical screen."""
    screen = b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x80\x00\x00" + b"\x00" * 6
    frame = b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00"
    return screen + frame + b"\x3b"


def png_broken_stream() -> bytes:
    """A PNG whose pixel data is not a zlib stream at all."""
    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"not a zlib stream")
        + _chunk(b"IEND", b"")
    )  # fmt: skip


def truncated(data: bytes, fraction: float = 0.5) -> bytes:
    return data[: int(len(data) * fraction)]


HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
    b"<script>alert(2)</script></svg>"
)
