"""Explore's ranking: engagement with time decay, recomputed periodically."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from .. import cache_keys
from ..models import Photo

WINDOW = timedelta(days=14)
GRAVITY = 1.5


def hot_score(*, likes: int, comments: int, views: int, age_hours: float) -> float:
    """Engagement (a comment counts twice a like, fifty views one like) decayed by age."""
    engagement = likes + 2 * comments + views / 50 + 1
    return engagement / (age_hours + 2) ** GRAVITY


def photos_rescore(*, limit: int = 20_000) -> int:
    """Score the most recent ready photos; older ones keep score 0 and sink."""
    now = timezone.now()
    recent = (
        Photo.objects.using(PRIMARY)
        .ready()
        .filter(created_at__gte=now - WINDOW)
        .only("id", "created_at", "like_count", "comment_count", "view_count", "hot_score")
        .order_by("-created_at")[:limit]
    )
    changed = []
    for photo in recent:
        age_hours = (now - photo.created_at).total_seconds() / 3600
        photo.hot_score = hot_score(
            likes=photo.like_count, comments=photo.comment_count, views=photo.view_count,
            age_hours=age_hours,
        )  # fmt: skip
        changed.append(photo)
    with transaction.atomic(using=PRIMARY):
        Photo.objects.bulk_update(changed, ["hot_score"], batch_size=1000)
        Photo.objects.ready().filter(created_at__lt=now - WINDOW, hot_score__gt=0).update(
            hot_score=0
        )
        bump(cache_keys.SCORES)
    return len(changed)
