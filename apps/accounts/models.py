import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from apps.common.models import TimeStampedModel


class User(AbstractUser):
    """A Pinstablr account. Its own model from the start, so it can grow without a swap."""

    email = models.EmailField("email address", blank=True)


class Profile(TimeStampedModel):
    """What other people see of a user. Read from replicas, unlike the auth row."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=500, blank=True)
    # One of the user's own photos, shown as their picture.
    avatar = models.ForeignKey(
        "photos.Photo", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.display_name or self.user.username


class Follow(models.Model):
    """``follower`` sees ``followee``'s photos in their home feed."""

    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="followers")
    # Indexed for the reports, which count by day.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(
                condition=~models.Q(follower=models.F("followee")), name="follow_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class ApiToken(models.Model):
    """A key a program signs in with (``Authorization: Token <key>``); a user may have several.

    Only a SHA-256 digest of the key is stored: a copy of the table (a backup, the console)
    signs nobody in. The key is 160 random bits, so a fast hash suffices, and the digest is
    looked up by equality on a unique index. The first characters (``prefix``) are kept to
    tell tokens apart on the settings page.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    # Not auto_now_add: tokens carried over from the old one-per-user table keep their date.
    created_at = models.DateTimeField(default=timezone.now)
    # Updated at most every few minutes (see apps.accounts.authentication).
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_for(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def expires_at(self) -> datetime | None:
        """When the token stops working (``PINSTABLR_TOKEN_LIFETIME_DAYS``); None: never.

        From the setting at each request, not stored: shortening the lifetime applies to the
        tokens already out, too.
        """
        days = settings.PINSTABLR_TOKEN_LIFETIME_DAYS
        return None if days is None else self.created_at + timedelta(days=days)
