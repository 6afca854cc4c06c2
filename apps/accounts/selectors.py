from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from .models import ApiToken, Follow, Profile, User


def _visible_photo_count() -> Any:
    """How many photos the user's grid shows: the photos app's one rule, ``visible()``.

    The model is looked up by name: photos stand on accounts, not the other way round.
    """
    photos = apps.get_model("photos", "Photo").objects.visible()
    counted = (
        photos.filter(owner=OuterRef("user"))
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _public_profiles(viewer: User | AnonymousUser | None = None) -> QuerySet[Profile]:
    """Active users' profiles with their counts, and whether ``viewer`` follows each."""
    profiles = (
        Profile.objects.select_related("user")
        .filter(user__is_active=True)
        .annotate(
            photo_count=_visible_photo_count(),
            follower_count=Count("user__followers", distinct=True),
            following_count=Count("user__following", distinct=True),
        )
    )
    if viewer is not None and viewer.is_authenticated:
        profiles = profiles.annotate(
            followed_by_viewer=Exists(
                Follow.objects.filter(follower=viewer, followee=OuterRef("user"))
            )
        )
    return profiles


def profile_get_by_username(
    *, username: str, viewer: User | AnonymousUser | None = None
) -> Profile:
    """The public profile of an active user with its counts; 404 if there is none."""
    return get_object_or_404(_public_profiles(viewer), user__username=username)


def profile_search(*, query: str, viewer: User | AnonymousUser | None = None) -> QuerySet[Profile]:
    """Active users whose user name or display name contains ``query``."""
    return _public_profiles(viewer).filter(
        Q(user__username__icontains=query) | Q(display_name__icontains=query)
    )


def user_get_active(*, username: str) -> User:
    """The active user named ``username``, or 404."""
    return get_object_or_404(User, username=username, is_active=True)


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    """``user``'s API tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_get_for_key(*, key: str) -> ApiToken | None:
    """The token whose key is ``key``, with its user; None if there is none.

    Read from the primary (the router's rule for tokens) and never cached, so a revoked
    token is refused on the very next request.
    """
    try:
        return ApiToken.objects.select_related("user").get(digest=ApiToken.digest_for(key))
    except ApiToken.DoesNotExist:
        return None
