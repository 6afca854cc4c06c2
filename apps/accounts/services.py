from django.db import IntegrityError, transaction

from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from .models import Follow, Profile, User


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


def user_follow(*, follower: User, followee: User) -> bool:
    """Follow ``followee``; False if already following. Following oneself is refused."""
    if follower.pk == followee.pk:
        raise ValueError("You cannot follow yourself.")
    try:
        with transaction.atomic(using=PRIMARY):
            Follow.objects.create(follower=follower, followee=followee)
            bump(f"follows:{follower.pk}")
    except IntegrityError:
        return False
    return True


def user_unfollow(*, follower: User, followee: User) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    if deleted:
        bump(f"follows:{follower.pk}")
    return bool(deleted)
