"""The operations routes' rows of the permission matrix (tests/test_permission_matrix.py).

``/metrics`` answers the ops team (``teams.view_operations``) and superusers, and a scraper
with the bearer token (tests/pinstablr/test_observability_metrics.py); everyone else gets the
404 of a page that does not exist, so nobody learns the route is there.
"""

from __future__ import annotations

from tests.permission_rows import Row

PUBLIC: set[str] = set()

NOBODY_ELSE = dict.fromkeys(
    ("anonymous", "user", "owner", "author", "marketing", "marketing_ungranted", "ux_owner",
     "ux_other"),
    404,
)  # fmt: skip

ROWS = [
    Row("metrics", "get", {**NOBODY_ELSE, "ops": 200, "admin": 200}),
    Row("metrics", "post", {**NOBODY_ELSE, "ops": 405, "admin": 405}),
]
