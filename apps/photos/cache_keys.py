"""The hot cache's version names for photos (see ``apps.common.hotcache``).

Every write that bumps a version and every read that depends on one names it here: a name
misspelt at one end would leave a page silently stale.
"""

from __future__ import annotations

from typing import Any

# Every list of photos: one added, processed, hidden, restored, removed or recaptioned.
PHOTOS = "photos"
# The explore order: hot scores recomputed, or a photo hidden or restored.
SCORES = "scores"


def photo(photo_id: int) -> str:
    """One photo's page and JSON: its counts, caption, comments and state."""
    return f"photo:{photo_id}"


def likes(user_id: int | None) -> str:
    """What ``user_id`` has liked: the "you liked this" on every page they see."""
    return f"likes:{user_id}"


def viewer_versions(request: Any) -> list[str]:
    """What changes a signed-in viewer's own copy of a page: their likes."""
    return [likes(request.user.pk)] if request.user.is_authenticated else []
