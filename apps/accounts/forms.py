from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from .models import User
from .security import login_blocked, login_failed, login_succeeded


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=True, help_text="For password resets only; never shown to anyone."
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class ThrottledLoginForm(AuthenticationForm):
    """Django's login form, refusing to check passwords after repeated failures."""

    def clean(self):
        request = self.request
        assert request is not None  # LoginView always passes the request
        username = self.cleaned_data.get("username") or ""
        if login_blocked(request, username):
            raise ValidationError(
                "Too many failed attempts. Wait 15 minutes, or reset your password.",
                code="too_many_attempts",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failed(request, username)
            raise
        login_succeeded(request, username)
        return cleaned


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
