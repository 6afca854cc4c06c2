"""API authentication by token (``Authorization: Token <key>``, as clients have always sent),
and the signed-in user an API view requires."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.request import Request

from .models import ApiToken, User
from .selectors import api_token_get_for_key
from .services import api_token_mark_used


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing over our table of named tokens (several per user, keys hashed).

    Each request looks its token up on the primary, uncached: a token revoked on the settings
    page, by a password change or by deactivating the account fails on the next request.
    """

    keyword = "Token"
    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = api_token_get_for_key(key=key)
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        expires_at = token.expires_at
        if expires_at is not None and expires_at <= now:
            raise AuthenticationFailed("Token has expired.", code="token_expired")
        api_token_mark_used(token=token, now=now)
        return token.user, token


def signed_in_user(request: Request) -> User:
    """The request's user, for views that require one (401 otherwise)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise NotAuthenticated()
    return user
