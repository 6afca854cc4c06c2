"""Read-your-writes across requests: a signed cookie carries the client's last write.

After a request writes, the response remembers the primary's replication position (MariaDB
GTID) in a signed cookie; the client's next requests read from a replica only once it has
applied that position. Where there are no positions (SQLite) the cookie holds the time of the
write and reads stay on the primary for ``PINSTABLR_PIN_SECONDS``. A cookie (not the session)
so that anonymous clients and every web server see it without a lookup.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing
from django.db import connections
from django.http import HttpRequest, HttpResponse

from . import positions
from .config import PRIMARY
from .state import RoutingState

COOKIE_NAME = "pinstablr_rw"
COOKIE_SALT = "pinstablr.db.consistency"


def cookie_max_age() -> int:
    """How long a write is remembered: past the lag bound a replica is skipped anyway."""
    return int(max(settings.PINSTABLR_PIN_SECONDS, settings.PINSTABLR_REPLICA_MAX_LAG_SECONDS)) + 1


def state_for(request: HttpRequest) -> RoutingState:
    """The routing state a request starts with, from its method and its cookie."""
    state = RoutingState(primary_only=request.method not in ("GET", "HEAD", "OPTIONS"))
    raw = request.COOKIES.get(COOKIE_NAME)
    if not raw:
        return state
    try:
        remembered = signing.loads(raw, salt=COOKIE_SALT, max_age=cookie_max_age())
        position = remembered.get("position")
        written_at = float(remembered.get("written_at", 0))
    except (signing.BadSignature, ValueError, TypeError, AttributeError):
        return state  # tampered, expired or from an older release: route as if absent
    state.required_position = position if isinstance(position, str) and position else None
    state.pinned_until = written_at + settings.PINSTABLR_PIN_SECONDS
    return state


def remember_write(state: RoutingState, response: HttpResponse) -> None:
    """If the request wrote, send the client the position its next reads must see."""
    if not state.wrote:
        return
    primary = connections[PRIMARY]
    position = positions.primary_position(primary) if primary.connection else None
    # signing.dumps is URL-safe base64: no quotes or commas for a cookie jar to mangle.
    value = signing.dumps({"position": position, "written_at": time.time()}, salt=COOKIE_SALT)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=cookie_max_age(),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
