"""Moderation by ops: hiding a photo from everyone but its owner, and restoring it.

The photo's files go with it: out of the public storage on hide, back under new URLs on
restore (services/files.py), in the same transaction as the change of state.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from .. import cache_keys
from ..models import Photo
from .files import photo_files_publish, photo_files_withdraw

REASON_MAX = 500


def _lock(photo: Photo) -> Photo:
    """The photo's row as it is now, locked: hide, restore and new renditions take turns."""
    return Photo.objects.select_for_update().only("pk", "hidden_at").get(pk=photo.pk)


@transaction.atomic(using=PRIMARY)
def photo_hide(*, photo: Photo, moderator: User, reason: str) -> Photo:
    """Hide ``photo``; the owner sees the reason, everyone else a 404."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the photo is hidden: its owner will see it."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"At most {REASON_MAX} characters."})
    _lock(photo)
    photo.hidden_at = timezone.now()
    photo.hidden_reason = reason
    photo.hidden_by = moderator
    photo.save(update_fields=["hidden_at", "hidden_reason", "hidden_by", "updated_at"])
    # Before the commit: once anyone can read that the photo is hidden, its files are gone
    # from the public storage. If moving them fails the photo is not hidden, and hiding it
    # again finishes the move.
    photo_files_withdraw(photo=photo)
    audit_record(action="hide", target=photo, actor=moderator, detail={"reason": reason})
    bump(cache_keys.PHOTOS, cache_keys.photo(photo.pk), cache_keys.SCORES)
    return photo


@transaction.atomic(using=PRIMARY)
def photo_restore(*, photo: Photo, moderator: User) -> Photo:
    """Show a hidden photo again, its files under new URLs."""
    if _lock(photo).hidden_at is not None:
        photo_files_publish(photo=photo)
    previous = photo.hidden_reason
    photo.hidden_at = None
    photo.hidden_reason = ""
    photo.hidden_by = None
    photo.save(update_fields=["hidden_at", "hidden_reason", "hidden_by", "updated_at"])
    audit_record(action="restore", target=photo, actor=moderator, detail={"reason": previous})
    bump(cache_keys.PHOTOS, cache_keys.photo(photo.pk), cache_keys.SCORES)
    return photo
