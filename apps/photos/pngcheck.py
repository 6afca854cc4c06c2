"""A PNG checked as a stream: every chunk and every row, with no decoded image in memory.

Pillow decodes a PNG into one buffer of about 4 bytes per pixel: 196 MB for 7000x7000, from
a file of 150 KB (a flat colour compresses about 1000:1). So a lossless upload of a few
hundred kilobytes could make a web process allocate what a 25 MB camera JPEG never does
(JPEGs are checked at 1/8 scale). Above the web process's decode budget a PNG is checked
this way instead: the chunk structure and every chunk's CRC up to IEND (what Pillow's
``Image.verify()`` checks), then the zlib stream of the image data inflated a piece at a time
and thrown away. The stream must be valid zlib, hold every row the header promises and start
each row with a known filter type. Memory stays at zlib's window and one piece; the image
workers, sized for full decodes, do the real one.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Colour type -> samples per pixel.
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: first column, first row, column step, row step.
ADAM7 = (
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
    (0, 1, 1, 2),
)  # fmt: skip
# Inflated bytes produced per step: the most this check holds at once.
PIECE = 256 * 1024
MAX_FILTER_TYPE = 4


class BrokenPng(ValueError):
    """The file is not a complete, well-formed PNG."""


class _Truncated(BrokenPng):
    """The file ends early: fatal before the last row, ignored after it (as in Pillow)."""


def row_runs(
    width: int, height: int, bits_per_pixel: int, interlaced: bool
) -> list[tuple[int, int]]:
    """The rows of the inflated image data as runs of equal rows: (row length with its
    filter byte, number of rows); one run, or one per non-empty Adam7 pass."""

    def row_bytes(pixels: int) -> int:
        return 1 + (pixels * bits_per_pixel + 7) // 8

    if not interlaced:
        return [(row_bytes(width), height)] if width and height else []
    runs = []
    for x0, y0, dx, dy in ADAM7:
        columns = (width - x0 + dx - 1) // dx if width > x0 else 0
        rows = (height - y0 + dy - 1) // dy if height > y0 else 0
        if columns and rows:  # an empty pass has no rows, not even filter bytes
            runs.append((row_bytes(columns), rows))
    return runs


class _Rows:
    """Follows the inflated stream row by row and checks each row's filter type.

    Whole rows in a piece are checked with one slice (every row's first byte), so a tall,
    narrow image costs no more Python work than a wide one.
    """

    def __init__(self, runs: list[tuple[int, int]]) -> None:
        self.runs = runs
        self.run = 0  # index of the current run
        self.rows_left = runs[0][1] if runs else 0
        self.into_row = 0  # bytes of the current row already seen

    @property
    def complete(self) -> bool:
        return self.run >= len(self.runs)

    def _row_done(self, count: int = 1) -> None:
        self.rows_left -= count
        if self.rows_left == 0:
            self.run += 1
            self.rows_left = self.runs[self.run][1] if self.run < len(self.runs) else 0

    def feed(self, piece: bytes) -> None:
        position = 0
        while position < len(piece) and not self.complete:
            length = self.runs[self.run][0]
            available = len(piece) - position
            if self.into_row:  # the rest of a row begun in an earlier piece
                taken = min(length - self.into_row, available)
                self.into_row = (self.into_row + taken) % length
                position += taken
                if not self.into_row:
                    self._row_done()
                continue
            whole = min(self.rows_left, available // length)
            if whole:
                filters = piece[position : position + whole * length : length]
                if max(filters) > MAX_FILTER_TYPE:
                    raise BrokenPng("a row starts with an unknown filter type")
                position += whole * length
                self._row_done(whole)
                continue
            if piece[position] > MAX_FILTER_TYPE:  # a row that goes on in the next piece
                raise BrokenPng("a row starts with an unknown filter type")
            self.into_row = available
            position = len(piece)
        # Bytes past the last row are ignored, as decoders do.


def _chunks(data: memoryview) -> Iterator[tuple[bytes, memoryview]]:
    """Every chunk up to and including IEND, each with its CRC checked."""
    position = len(SIGNATURE)
    while True:
        if position + 8 > len(data):
            raise _Truncated("the file ends before its IEND chunk")
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            raise _Truncated("the file ends inside a chunk")
        payload = data[position + 8 : end - 4]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(payload, zlib.crc32(kind)) != crc:
            raise BrokenPng(f"the {kind!r} chunk fails its CRC")
        yield kind, payload
        if kind == b"IEND":
            return
        position = end


def check_png(data: bytes) -> bytes | None:
    """Check ``data`` as the module says, without decoding it; raise :class:`BrokenPng`.

    Returns the payload of its eXIf chunk (None without one), wherever in the file it is:
    Pillow would decode the whole image to find one after the image data.
    """
    view = memoryview(data)
    if not data.startswith(SIGNATURE):
        raise BrokenPng("no PNG signature")
    rows: _Rows | None = None
    inflater = zlib.decompressobj()
    exif: bytes | None = None
    try:
        for kind, payload in _chunks(view):
            if kind == b"IHDR":
                rows = _Rows(_runs_of(payload))
            elif kind == b"IDAT":
                if rows is None:
                    raise BrokenPng("image data before the header")
                _inflate(inflater, payload, rows)
            elif kind == b"eXIf":
                exif = bytes(payload)
    except _Truncated:
        if rows is None or not rows.complete:
            raise
    if rows is None or not rows.complete:
        raise BrokenPng("the image data ends before its last row")
    return exif


def _runs_of(header: memoryview) -> list[tuple[int, int]]:
    if len(header) != 13:
        raise BrokenPng("the IHDR chunk has the wrong size")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if colour not in CHANNELS or interlace not in (0, 1) or depth not in (1, 2, 4, 8, 16):
        raise BrokenPng("the header names an unknown pixel format")
    return row_runs(width, height, CHANNELS[colour] * depth, interlace == 1)


def _inflate(inflater: zlib._Decompress, payload: memoryview, rows: _Rows) -> None:
    """Inflate one IDAT chunk a piece at a time; stop once every row has been seen."""
    pending: bytes | memoryview = payload
    while pending and not rows.complete:
        try:
            piece = inflater.decompress(pending, PIECE)
        except zlib.error as error:
            raise BrokenPng(f"the image data is not a valid zlib stream ({error})") from error
        rows.feed(piece)
        pending = inflater.unconsumed_tail
        if not piece and not pending:
            break
