"""Account pages: sign up, log in and out, profiles, following, profile and token settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.common.paging import first_page
from apps.photos.selectors import photo_list

from .forms import ApiTokenForm, ProfileForm, SignupForm, ThrottledLoginForm
from .models import User
from .selectors import api_token_list_for_user, profile_get_by_username, user_get_active
from .services import (
    api_token_create,
    api_token_revoke,
    profile_update,
    user_follow,
    user_unfollow,
)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="apps.accounts.backends.LockoutModelBackend")
        messages.success(request, "Welcome to Pinstablr! Share your first photo.")
        return redirect("photos:upload")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def profile(request: HttpRequest, username: str) -> HttpResponse:
    """A user's gallery, newest first."""
    shown = profile_get_by_username(username=username, viewer=request.user)
    photos = photo_list(viewer=request.user).filter(owner=shown.user)
    page = first_page(photos, request, reverse("api:photo-list"), filters={"owner": username})
    return render(request, "accounts/profile.html", {"profile": shown, "page": page})


@require_POST
@login_required
def follow_toggle(request: HttpRequest, username: str) -> HttpResponse:
    """The no-JS path of the follow button (the JS client calls the API)."""
    assert isinstance(request.user, User)
    followee = user_get_active(username=username)
    if followee.pk == request.user.pk:
        messages.error(request, "You cannot follow yourself.")
    elif not user_follow(follower=request.user, followee=followee):
        user_unfollow(follower=request.user, followee=followee)
    return redirect("accounts:profile", username=username)


@login_required
def profile_settings(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    current = profile_get_by_username(username=request.user.get_username())
    own_photos = photo_list(viewer=request.user).filter(owner=request.user)[:60]
    choices = [(photo.pk, photo.caption[:40] or f"Photo {photo.pk}") for photo in own_photos]
    initial = {
        "display_name": current.display_name,
        "bio": current.bio,
        "avatar": current.avatar_id,
    }
    form = ProfileForm(request.POST or None, initial=initial, photo_choices=choices)
    if request.method == "POST" and form.is_valid():
        profile_update(
            user=request.user, display_name=form.cleaned_data["display_name"],
            bio=form.cleaned_data["bio"], avatar_id=form.cleaned_data["avatar"],
        )  # fmt: skip
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile", username=request.user.get_username())
    return render(request, "accounts/settings.html", {"form": form})


@login_required
def token_settings(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a new one's key is shown once, in the answer to its form."""
    assert isinstance(request.user, User)
    form = ApiTokenForm(request.POST or None)
    context: dict[str, object] = {}
    if request.method == "POST" and form.is_valid():
        token, key = api_token_create(user=request.user, name=form.cleaned_data["name"])
        context = {"new_token": token, "new_key": key}
        form = ApiTokenForm()
    tokens = list(api_token_list_for_user(user=request.user))
    context |= {"form": form, "tokens": tokens, "now": timezone.now()}
    response = render(request, "accounts/tokens.html", context)
    response["Cache-Control"] = "no-store"  # the page may hold a new key
    return response


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    assert isinstance(request.user, User)
    if not api_token_revoke(user=request.user, token_id=token_id):
        raise Http404("You have no such token.")
    messages.success(request, "Token revoked: programs using it are signed out.")
    return redirect("accounts:tokens")
