from django.db import transaction

from .models import Profile, User


@transaction.atomic
def profile_update(
    *, user: User, display_name: str | None = None, bio: str | None = None
) -> Profile:
    """Change the fields given of ``user``'s profile."""
    profile = Profile.objects.select_for_update().select_related("user").get(user=user)
    if display_name is not None:
        profile.display_name = display_name
    if bio is not None:
        profile.bio = bio
    # The user link is not being changed: checking it would cost two needless queries.
    profile.full_clean(exclude=["user"], validate_unique=False)
    profile.save()
    return profile
