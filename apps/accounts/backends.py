"""The password check every login path shares, with the lockout of :mod:`.security`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .security import login_failed, login_refusal, login_succeeded, remember_refusal


class LoginRefused(PermissionDenied):
    """Raised to stop ``authenticate()`` from asking any other backend."""


class LockoutModelBackend(ModelBackend):
    """Django's user-name-and-password check, refused while the client is locked out.

    A backend rather than a form, so the site's login page, the admin's, the API's token
    endpoint and anything else calling ``authenticate()`` share one lockout.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        remember_refusal(request, None)
        refusal = login_refusal(request, username)
        if refusal is not None:
            remember_refusal(request, refusal)
            raise LoginRefused(refusal.message)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failed(request, username)
        else:
            login_succeeded(request, username)
        return user
