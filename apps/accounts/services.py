from django.db import IntegrityError, transaction

from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from .models import Follow, Profile, User


class Unset:
    """Marks an argument that was not given (None is a value: "no avatar")."""


UNSET = Unset()


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    avatar_id: int | Unset | None = UNSET,
) -> Profile:
    """Change the fields given of ``user``'s profile; the avatar must be their own photo."""
    profile = Profile.objects.select_for_update().select_related("user").get(user=user)
    if display_name is not None:
        profile.display_name = display_name
    if bio is not None:
        profile.bio = bio
    if not isinstance(avatar_id, Unset):
        if avatar_id is not None and not user.photos.filter(pk=avatar_id).exists():
            raise ValueError("The profile picture must be one of your own photos.")
        profile.avatar_id = avatar_id
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
