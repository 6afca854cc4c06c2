from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Profile, User


@receiver(post_save, sender=User, dispatch_uid="accounts.create_profile")
def create_profile(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    """Every user has a profile, whichever way the user was created (admin, API, shell)."""
    if created:
        Profile.objects.create(user=instance)
