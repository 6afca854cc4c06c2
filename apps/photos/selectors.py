from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from apps.accounts.models import Follow, User

from .models import Comment, Like, Photo, Rendition, Tag
from .permissions import can_moderate


def _with_display(photos: QuerySet[Photo], viewer: User | AnonymousUser | None) -> QuerySet[Photo]:
    """What every photo list shows: owner, renditions, tags and whether the viewer liked it."""
    photos = photos.select_related("owner").prefetch_related(
        Prefetch("renditions", queryset=Rendition.objects.order_by("width", "format")),
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
    )
    if viewer is not None and viewer.is_authenticated:
        photos = photos.annotate(
            liked_by_viewer=Exists(Like.objects.filter(user=viewer, photo=OuterRef("pk")))
        )
    return photos


def photo_get_for_user(*, viewer: User | AnonymousUser, photo_id: int) -> Photo:
    """A photo the viewer may see: the owner sees it in every state, moderators once ready
    (hidden or not), everyone else once ready and not hidden."""
    photo = _with_display(Photo.objects.filter(pk=photo_id), viewer).first()
    if photo is None:
        raise Http404("No such photo.")
    if photo.owner_id == viewer.pk:
        return photo
    if photo.status != Photo.Status.READY or (photo.hidden_at and not can_moderate(viewer)):
        raise Http404("No such photo.")
    return photo


def photo_get_for_moderator(*, moderator: User | AnonymousUser, photo_id: int) -> Photo:
    """A photo to hide or restore: 404 as for anyone, then 403 for all but moderators."""
    photo = photo_get_for_user(viewer=moderator, photo_id=photo_id)
    if not can_moderate(moderator):
        raise PermissionDenied("Only moderators can hide or restore photos.")
    return photo


def photo_list(*, viewer: User | AnonymousUser | None) -> QuerySet[Photo]:
    """Visible photos of active users, newest first (filters narrow it by owner or tag)."""
    return _with_display(Photo.objects.visible().filter(owner__is_active=True), viewer)


def photo_feed(*, viewer: User) -> QuerySet[Photo]:
    """The home feed: ready photos of the people ``viewer`` follows, and their own."""
    followed = Follow.objects.filter(follower=viewer).values("followee")
    return photo_list(viewer=viewer).filter(Q(owner__in=followed) | Q(owner=viewer))


def photo_explore(*, viewer: User | AnonymousUser | None) -> QuerySet[Photo]:
    """Popular photos: engagement with time decay (``hot_score``), best first."""
    return photo_list(viewer=viewer).order_by("-hot_score", "-id")


def comment_list(*, photo: Photo) -> QuerySet[Comment]:
    """``photo``'s comments with their authors."""
    return photo.comments.select_related("author")


def tag_search(*, query: str) -> QuerySet[Tag]:
    """Tags starting with ``query`` (a leading # ignored), by name."""
    return Tag.objects.filter(name__istartswith=query.lstrip("#").lower()).order_by("name")
