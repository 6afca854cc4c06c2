from typing import Any

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .models import Profile, User
from .services import api_tokens_revoke_all

CREDENTIAL_FIELDS = frozenset({"password", "is_active"})


@receiver(post_save, sender=User, dispatch_uid="accounts.create_profile")
def create_profile(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    """Every user has a profile, whichever way the user was created (admin, API, shell)."""
    if created:
        Profile.objects.create(user=instance)


@receiver(pre_save, sender=User, dispatch_uid="accounts.note_credential_change")
def note_credential_change(
    sender: type[User], instance: User, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """Notice a new password or a deactivation, whichever path saves it.

    The password change and reset pages, the admin's user form and its "change password"
    form, ``manage.py changepassword`` and services all end in ``user.save()``; a signal on
    the model catches every one. (``QuerySet.update()`` sends no signal: deactivate accounts
    by saving them.)
    """
    if raw or instance.pk is None:
        return
    if update_fields is not None and not CREDENTIAL_FIELDS & set(update_fields):
        return  # e.g. the last-login stamp every login writes: no extra query
    stored = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    deactivated = stored["is_active"] and not instance.is_active
    # set_password() leaves the raw password in _password until the save; a hash upgrade
    # at login (same password, stronger hasher) clears it first and is not a change.
    # set_unusable_password() leaves no raw password but disables the old one.
    new_password = stored["password"] != instance.password and (
        getattr(instance, "_password", None) is not None or not instance.has_usable_password()
    )
    if deactivated or new_password:
        instance._pinstablr_revoke_tokens = True  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="accounts.revoke_tokens_on_credential_change")
def revoke_tokens_on_credential_change(
    sender: type[User], instance: User, created: bool, **kwargs: Any
) -> None:
    """A new password or a deactivated account ends every API token the user had."""
    if getattr(instance, "_pinstablr_revoke_tokens", False):
        instance._pinstablr_revoke_tokens = False  # type: ignore[attr-defined]
        api_tokens_revoke_all(user=instance)
