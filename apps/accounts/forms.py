from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from .models import User
from .security import refusal_of


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=True, help_text="For password resets only; never shown to anyone."
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class LockoutMessageMixin:
    """Says "too many failed attempts" when the backend refused to check the password."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> ValidationError:
        refusal = refusal_of(self.request)
        if refusal is not None:
            return ValidationError(refusal.message, code="too_many_attempts")
        return super().get_invalid_login_error()  # type: ignore[misc]


class ThrottledLoginForm(LockoutMessageMixin, AuthenticationForm):
    """Django's login form; the lockout itself is the backend's (apps.accounts.backends)."""


class ThrottledAdminLoginForm(LockoutMessageMixin, AdminAuthenticationForm):
    """The admin's login form, with the same lockout and message as the site's."""


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text='What uses it, e.g. "backup script" or "phone app".'
    )


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=80, required=False)
    bio = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    avatar = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Profile picture",
        help_text="One of your photos.",
    )  # fmt: skip

    def __init__(self, *args, photo_choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        avatar = self.fields["avatar"]
        assert isinstance(avatar, forms.TypedChoiceField)
        avatar.choices = [("", "None"), *photo_choices]
