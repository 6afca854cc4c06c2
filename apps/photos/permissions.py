"""Who may do what to photos and comments: the one place pages, API and admin ask."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from apps.accounts.models import User

from .models import Comment, Photo

MODERATE = "photos.moderate_photo"


def can_moderate(user: User | AnonymousUser) -> bool:
    """Ops moderators (and superusers) may hide any photo."""
    return user.is_authenticated and user.has_perm(MODERATE)


def can_edit_photo(user: User | AnonymousUser, photo: Photo) -> bool:
    """Only the owner changes a photo's caption or deletes it."""
    return user.is_authenticated and photo.owner_id == user.pk


def can_delete_comment(user: User | AnonymousUser, comment: Comment) -> bool:
    """A comment's author, or the owner of the photo it is on."""
    return user.is_authenticated and user.pk in (comment.author_id, comment.photo.owner_id)
