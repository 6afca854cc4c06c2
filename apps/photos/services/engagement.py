"""Views, likes, comments and caption edits."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from apps.accounts.models import User
from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from .. import cache_keys, counters
from ..captions import tags_in
from ..models import COMMENT_MAX_LENGTH, Comment, Like, Photo, Tag


def photo_set_caption(*, photo: Photo, caption: str) -> Photo:
    """Change a caption and the tags it carries."""
    with transaction.atomic(using=PRIMARY):
        photo.caption = caption
        photo.save(update_fields=["caption", "updated_at"])
        photo_sync_tags(photo=photo)
        bump(cache_keys.PHOTOS, cache_keys.photo(photo.pk))
    return photo


def photo_sync_tags(*, photo: Photo) -> None:
    """Make the photo's tags those of its caption, creating new tags as needed."""
    names = tags_in(photo.caption)
    Tag.objects.bulk_create([Tag(name=name) for name in names], ignore_conflicts=True)
    photo.tags.set(Tag.objects.using(PRIMARY).filter(name__in=names))


def photo_count_view(*, photo_id: int, viewer: str) -> bool:
    """Count a view by ``viewer`` (``counters.viewer_of``) once per window; False if counted.

    Only a photo shown as everyone sees it counts: callers call this after the visibility
    check, never for a hidden or pending photo (a 404 for strangers; its owner's own look).
    """
    return counters.add_view(photo_id, viewer)


def photo_like(*, user: User, photo: Photo) -> bool:
    """Like a photo; False if the user already liked it (liking twice changes nothing)."""
    try:
        with transaction.atomic(using=PRIMARY):
            Like.objects.create(user=user, photo=photo)
    except IntegrityError:
        return False
    counters.add(photo.pk, "like_count", 1)
    bump(cache_keys.photo(photo.pk), cache_keys.likes(user.pk))
    return True


def photo_unlike(*, user: User, photo: Photo) -> bool:
    """Take back ``user``'s like of ``photo``; whether there was one."""
    deleted, _ = Like.objects.filter(user=user, photo=photo).delete()
    if deleted:
        counters.add(photo.pk, "like_count", -1)
        bump(cache_keys.photo(photo.pk), cache_keys.likes(user.pk))
    return bool(deleted)


def comment_text_validate(text: str) -> None:
    """ValidationError unless ``text``, without surrounding spaces, is 1 to 1,000 characters."""
    if not 1 <= len(text.strip()) <= COMMENT_MAX_LENGTH:
        raise ValidationError(
            f"A comment needs between 1 and {COMMENT_MAX_LENGTH:,} characters.", code="length"
        )


def comment_create(*, author: User, photo: Photo, text: str) -> Comment:
    """Add ``author``'s comment to ``photo``; ValidationError for an empty or over-long text."""
    comment_text_validate(text)
    text = text.strip()
    with transaction.atomic(using=PRIMARY):
        comment = Comment.objects.create(author=author, photo=photo, text=text)
        Photo.objects.filter(pk=photo.pk).update(comment_count=F("comment_count") + 1)
        bump(cache_keys.PHOTOS, cache_keys.photo(photo.pk))
    return comment


def comment_delete(*, comment: Comment) -> None:
    """Delete ``comment`` and count it off its photo."""
    with transaction.atomic(using=PRIMARY):
        Photo.objects.filter(pk=comment.photo_id, comment_count__gt=0).update(
            comment_count=F("comment_count") - 1
        )
        comment.delete()
        bump(cache_keys.PHOTOS, cache_keys.photo(comment.photo_id))
