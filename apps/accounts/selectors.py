from django.shortcuts import get_object_or_404

from .models import Profile


def profile_get_by_username(*, username: str) -> Profile:
    """The public profile of an active user; 404 if there is none."""
    return get_object_or_404(
        Profile.objects.select_related("user"), user__username=username, user__is_active=True
    )


def profile_list_recent(*, limit: int) -> list[Profile]:
    """The newest active users' profiles, newest first."""
    return list(
        Profile.objects.select_related("user")
        .filter(user__is_active=True)
        .order_by("-created_at", "-id")[:limit]
    )
