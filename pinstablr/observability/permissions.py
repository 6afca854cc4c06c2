"""Who may read the metrics: a scraper with the bearer token, or the ops team.

Everyone else gets the same 404 as for a URL that does not exist, so the endpoint gives
nothing away: not even that it is there. The same rule decides who sees the detail of
``/readyz`` (pinstablr/health.py).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

if TYPE_CHECKING:
    from django.http import HttpRequest

    from apps.accounts.models import User

OPERATIONS_PERMISSION = "teams.view_operations"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if that is what it is."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def metrics_token_matches(*, presented: str | None, expected: str | None = None) -> bool:
    """Whether ``presented`` is the metrics token; no token is configured, none matches."""
    expected = settings.PINSTABLR_METRICS_TOKEN if expected is None else expected
    if not expected or presented is None:
        return False
    # Constant time: the comparison must not tell how much of a guess was right.
    return hmac.compare_digest(presented.encode(), expected.encode())


def metrics_visible_to_user(*, user: User | AnonymousUser) -> bool:
    """Whether a signed-in person may read the metrics: the ops team and superusers."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(OPERATIONS_PERMISSION))


def operations_visible(*, request: HttpRequest) -> bool:
    """Whether the caller presents the metrics token or is a signed-in member of ops."""
    # The token first: a scraper or a probe with it never loads a session or a user.
    presented = bearer_token(request.headers.get("Authorization"))
    return metrics_token_matches(presented=presented) or metrics_visible_to_user(user=request.user)
