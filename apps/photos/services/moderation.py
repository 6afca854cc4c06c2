"""Moderation by ops: hiding a photo from everyone but its owner, and restoring it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import audit_record
from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from ..models import Photo

REASON_MAX = 500


@transaction.atomic(using=PRIMARY)
def photo_hide(*, photo: Photo, moderator: User, reason: str) -> Photo:
    """Hide ``photo``; the owner sees the reason, everyone else a 404."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the photo is hidden: its owner will see it."})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"At most {REASON_MAX} characters."})
    photo.hidden_at = timezone.now()
    photo.hidden_reason = reason
    photo.hidden_by = moderator
    photo.save(update_fields=["hidden_at", "hidden_reason", "hidden_by", "updated_at"])
    audit_record(action="hide", target=photo, actor=moderator, detail={"reason": reason})
    bump("photos", f"photo:{photo.pk}", "scores")
    return photo


@transaction.atomic(using=PRIMARY)
def photo_restore(*, photo: Photo, moderator: User) -> Photo:
    """Show a hidden photo again."""
    previous = photo.hidden_reason
    photo.hidden_at = None
    photo.hidden_reason = ""
    photo.hidden_by = None
    photo.save(update_fields=["hidden_at", "hidden_reason", "hidden_by", "updated_at"])
    audit_record(action="restore", target=photo, actor=moderator, detail={"reason": previous})
    bump("photos", f"photo:{photo.pk}", "scores")
    return photo
