from django.contrib.auth.models import AbstractUser
from django.db import models

from apps.common.models import TimeStampedModel


class User(AbstractUser):
    """A Pinstablr account. Its own model from the start, so it can grow without a swap."""

    email = models.EmailField("email address", blank=True)


class Profile(TimeStampedModel):
    """What other people see of a user. Read from replicas, unlike the auth row."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.user.username
