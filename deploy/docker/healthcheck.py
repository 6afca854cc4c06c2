"""Health check of the web role: GET /healthz on this container's gunicorn, exit 0 on 200.

Django answers only for host names in DJANGO_ALLOWED_HOSTS (anything else is a 400), so the
request names the first of them: a leading dot (Django's "this domain and its subdomains")
is dropped, and ``*`` or an empty list means ``localhost``. Standard library only, so the
image needs no curl. Usage: ``python healthcheck.py [URL]`` (default below).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"
TIMEOUT_SECONDS = 4


def host_header(allowed_hosts: str) -> str:
    first = allowed_hosts.split(",")[0].strip().lstrip(".")
    return first if first and first != "*" else "localhost"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        print(f"healthcheck: not an HTTP URL: {url}", file=sys.stderr)
        return 2
    host = host_header(os.environ.get("DJANGO_ALLOWED_HOSTS", ""))
    # No proxy from the environment: the check is about this container only.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310 (checked above)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"healthcheck: {url} answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
