from django.db import transaction

from .models import Profile, User


@transaction.atomic
def profile_update(
    *, user: User, display_name: str | None = None, bio: str | None = None
) -> Profile:
    """Change the fields given of ``user``'s profile."""
    profile = Profile.objects.select_for_update().get(user=user)
    if display_name is not None:
        profile.display_name = display_name
    if bio is not None:
        profile.bio = bio
    profile.full_clean()
    profile.save()
    return profile
