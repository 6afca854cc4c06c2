"""Cut metadata out of image files without touching their pixels.

The stored original must carry no GPS position, comment, XMP or script payload, yet it is
the master that later pipeline versions re-read, so JPEG, PNG and WebP files are rewritten
block by block: every metadata block and any bytes after the image's end are dropped, and
the encoded pixel data is copied unchanged. A JPEG keeps one fact of its EXIF block, the
orientation, in a minimal EXIF block of its own.
"""

from __future__ import annotations

import struct

from PIL import Image

JPEG_KEEP_APP = {b"ICC_PROFILE\x00": 0xE2, b"Adobe": 0xEE}  # colour facts, not metadata
PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"pHYs", b"bKGD",
}  # fmt: skip
WEBP_DROP = {b"EXIF", b"XMP "}
WEBP_EXIF_FLAG, WEBP_XMP_FLAG = 0x08, 0x04


class NotStrippable(Exception):
    """The file's structure is not what its format promises."""


def strip(data: bytes, source_format: str, orientation: int = 1) -> tuple[bytes, str] | None:
    """``(clean bytes, extension)``, or None if this format is not handled here."""
    try:
        if source_format in ("JPEG", "MPO"):
            return strip_jpeg(data, orientation), "jpg"
        if source_format == "PNG" and orientation == 1:
            return strip_png(data), "png"
        if source_format == "WEBP" and orientation == 1:
            return strip_webp(data), "webp"
    except (NotStrippable, struct.error, IndexError, ValueError):
        return None
    return None


def _minimal_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    payload = b"Exif\x00\x00" + exif.tobytes()
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _keep_jpeg_segment(marker: int, payload: bytes) -> bool:
    if marker == 0xFE:  # COM
        return False
    if 0xE0 <= marker <= 0xEF:  # APPn: only ICC profiles and the Adobe colour transform
        return any(payload.startswith(tag) and marker == m for tag, m in JPEG_KEEP_APP.items())
    return True


def strip_jpeg(data: bytes, orientation: int = 1) -> bytes:
    """Copy a JPEG without APPn metadata, comments, or anything after the end marker."""
    if data[:2] != b"\xff\xd8":
        raise NotStrippable("no JPEG start marker")
    out = bytearray(b"\xff\xd8")
    if orientation != 1:
        out += _minimal_exif(orientation)
    position = 2
    in_scan = False
    while position < len(data):
        if data[position] != 0xFF:
            if not in_scan:
                raise NotStrippable("expected a marker")
            start = position
            position = data.index(b"\xff", position)
            out += data[start:position]
            continue
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            if in_scan:
                out += b"\xff"
            position += 1
            continue
        if marker == 0x00 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[position : position + 2]  # stuffed byte, restart marker, TEM
            position += 2
            continue
        if marker == 0xD9:  # EOI: drop whatever follows (polyglot payloads, MPO extras)
            out += b"\xff\xd9"
            return bytes(out)
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segment = data[position : position + 2 + length]
        if len(segment) < 2 + length:
            raise NotStrippable("truncated segment")
        if _keep_jpeg_segment(marker, segment[4:]):
            out += segment
        position += 2 + length
        in_scan = marker == 0xDA or in_scan
    raise NotStrippable("no JPEG end marker")


def strip_png(data: bytes) -> bytes:
    """Copy a PNG with only its image chunks, ending at IEND."""
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise NotStrippable("no PNG signature")
    out = bytearray(signature)
    position = len(signature)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise NotStrippable("truncated chunk")
        if kind in PNG_KEEP:
            out += data[position:end]
        if kind == b"IEND":
            return bytes(out)
        position = end
    raise NotStrippable("no IEND chunk")


def strip_webp(data: bytes) -> bytes:
    """Copy a WebP without its EXIF and XMP chunks, with the header's flags to match."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise NotStrippable("not a RIFF WebP")
    (riff_size,) = struct.unpack("<I", data[4:8])
    body_end = min(len(data), 8 + riff_size)
    chunks = bytearray()
    position = 12
    while position + 8 <= body_end:
        kind = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        end = position + 8 + size + (size & 1)
        chunk = bytearray(data[position : min(end, body_end)])
        if kind == b"VP8X":
            chunk[8] &= ~(WEBP_EXIF_FLAG | WEBP_XMP_FLAG) & 0xFF
        if kind not in WEBP_DROP:
            chunks += chunk
        position = end
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + bytes(chunks)
