"""The hot cache's version names for accounts (see ``apps.common.hotcache``)."""

from __future__ import annotations


def follows(user_id: int | None) -> str:
    """Whom ``user_id`` follows: their home feed."""
    return f"follows:{user_id}"
