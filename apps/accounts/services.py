import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models.functions import Coalesce

from apps.common.hotcache import bump
from pinstablr.db.config import PRIMARY

from . import cache_keys
from .models import ApiToken, Follow, Profile, User


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
            bump(cache_keys.follows(follower.pk))
    except IntegrityError:
        return False
    return True


def user_unfollow(*, follower: User, followee: User) -> bool:
    """Stop ``follower`` following ``followee``; whether they did."""
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    if deleted:
        bump(cache_keys.follows(follower.pk))
    return bool(deleted)


# Tokens beyond this many per user are dropped, least recently used first: a client that
# asks for a new token each time it starts must not grow the table without end.
API_TOKENS_PER_USER = 20
# How stale "last used" may be: one write per token every few minutes, not per request.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``user`` and its key, which is shown this once and never stored."""
    key = secrets.token_hex(20)  # the shape of the earlier tokens: 40 hex digits
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:8], digest=ApiToken.digest_for(key)
    )
    stale = ApiToken.objects.filter(user=user).order_by(
        Coalesce("last_used_at", "created_at").desc(), "-pk"
    )[API_TOKENS_PER_USER:]
    ApiToken.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return token, key


def api_token_revoke(*, user: User, token_id: int) -> bool:
    """Delete one of ``user``'s tokens; False if ``user`` has no token ``token_id``."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return bool(deleted)


def api_tokens_revoke_all(*, user: User) -> int:
    """Delete every token of ``user`` (password changed or reset, account deactivated)."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def api_token_mark_used(*, token: ApiToken, now: datetime) -> None:
    """Record that ``token`` was used, at most once per ``LAST_USED_RESOLUTION``."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    token.last_used_at = now
    # Bookkeeping, not data the request reads back: written with .using() so the router does
    # not count it as the request's write, which would send its reads, and the client's next
    # ones, to the primary.
    ApiToken.objects.using(PRIMARY).filter(pk=token.pk).update(last_used_at=now)
