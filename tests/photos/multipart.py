"""A multipart body built by hand, so a test can send any file name at all.

Django's test client keeps only the basename of a file's name; attackers do not.
"""

from __future__ import annotations

from urllib.parse import quote

BOUNDARY = "pinstablr-test-boundary-7f3a"


def body_with_file(filename: str, data: bytes, field: str = "image") -> tuple[bytes, str]:
    """``(body, content_type)``; names with control or non-ASCII characters use RFC 5987."""
    if filename.isascii() and filename.isprintable() and '"' not in filename:
        disposition = f'form-data; name="{field}"; filename="{filename}"'
    else:
        disposition = f"form-data; name=\"{field}\"; filename*=UTF-8''{quote(filename, safe='')}"
    body = (
        (
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={BOUNDARY}"
