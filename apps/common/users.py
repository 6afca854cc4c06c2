"""Small questions about the user making a request, asked the same way everywhere."""

from __future__ import annotations

from typing import Any


def is_active_user(user: Any) -> bool:
    """Whether ``user`` is a signed-in, active account (not anonymous, not deactivated)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)
