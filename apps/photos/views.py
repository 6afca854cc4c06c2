"""Pages about photos, and rendition files: visible photos' for the filesystem storage, hidden
photos' for their owner and the moderators.

Pages render the first page of a list on the server (fast first paint, works without JS);
the JS client continues from the API URL the page hands it.
"""

from __future__ import annotations

import mimetypes
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import User
from apps.accounts.selectors import profile_search
from apps.common.hotcache import cached_anonymous_page
from apps.common.pagination import HottestFirstCursorPagination
from apps.common.paging import first_page

from . import cache_keys, counters, storage
from .models import COMMENT_MAX_LENGTH, Photo
from .permissions import can_moderate
from .selectors import (
    comment_list,
    photo_explore,
    photo_feed,
    photo_get_for_moderator,
    photo_get_for_user,
    photo_list,
    tag_search,
)
from .services.engagement import comment_create, photo_count_view, photo_like, photo_unlike
from .services.moderation import photo_hide, photo_restore

# A rendition's key: in its photo's folder, or (made before photos had folders) not.
KEY = re.compile(r"^[0-9a-f]{2}/(?:[0-9a-f]{32}/)?[0-9a-f]{64}\.(jpg|webp|avif)$")


def _file_response(files: Storage, path: str, cache_control: str) -> FileResponse:
    response = FileResponse(files.open(path, "rb"), content_type=mimetypes.guess_type(path)[0])
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_GET
def rendition_file(request: HttpRequest, key: str) -> FileResponse:
    """A visible photo's rendition (filesystem storage): immutable, cached for a year by
    browsers and ``s-maxage`` by shared caches, never sniffed. A hidden or deleted photo's
    files are no longer in this storage: 404."""
    if not KEY.match(key) or not storage.renditions().exists(key):
        raise Http404("No such file.")
    return _file_response(storage.renditions(), key, settings.RENDITION_CACHE_CONTROL)


@require_GET
def hidden_rendition_file(request: HttpRequest, photo_id: int, key: str) -> FileResponse:
    """A hidden photo's rendition, from the private storage, for its owner and the
    moderators only (404 for everyone else): checked on every request, kept by no cache."""
    if not KEY.match(key):
        raise Http404("No such file.")
    photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
    hidden = storage.hidden_key(photo.pk, key)
    if (
        photo.hidden_at is None
        or key not in {rendition.storage_key for rendition in photo.renditions.all()}
        or not storage.originals().exists(hidden)
    ):
        raise Http404("No such file.")
    return _file_response(storage.originals(), hidden, "private, no-store")


@cached_anonymous_page(lambda: [cache_keys.PHOTOS])
def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the home feed. Otherwise: the newest photos and an invitation."""
    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        page = first_page(photo_feed(viewer=request.user), request, reverse("api:feed"))
        title = "Your feed"
    else:
        page = first_page(photo_list(viewer=None), request, reverse("api:photo-list"))
        title = "Newest photos"
    return render(request, "photos/feed.html", {"page": page, "title": title, "feed": True})


@cached_anonymous_page(lambda: [cache_keys.PHOTOS, cache_keys.SCORES])
def explore(request: HttpRequest) -> HttpResponse:
    page = first_page(
        photo_explore(viewer=request.user), request, reverse("api:explore"),
        pagination=HottestFirstCursorPagination,
    )  # fmt: skip
    return render(request, "photos/feed.html", {"page": page, "title": "Explore"})


@cached_anonymous_page(lambda name: [cache_keys.PHOTOS])
def tag_page(request: HttpRequest, name: str) -> HttpResponse:
    tag = name.lstrip("#").lower()
    photos = photo_list(viewer=request.user).filter(tags__name=tag)
    page = first_page(photos, request, reverse("api:photo-list"), filters={"tag": tag})
    return render(request, "photos/feed.html", {"page": page, "title": f"#{tag}"})


def photo_page(request: HttpRequest, photo_id: int) -> HttpResponse:
    """A photo's page: a 404 for a photo the viewer may not see, which counts no view."""
    if request.user.is_authenticated:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        response = photo_page_content(request, photo)
        visible = photo.is_visible  # not its owner's or a moderator's look at a hidden one
    else:
        # Signed-out visitors are shown only visible photos, from the cache or not.
        response = anonymous_photo_page(request, photo_id)
        visible = True
    if visible:
        photo_count_view(photo_id=photo_id, viewer=counters.viewer_of(request))
    return response


@cached_anonymous_page(lambda photo_id: [cache_keys.photo(photo_id)], timeout=300)
def anonymous_photo_page(request: HttpRequest, photo_id: int) -> HttpResponse:
    photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
    return photo_page_content(request, photo)


def photo_page_content(request: HttpRequest, photo: Photo) -> HttpResponse:
    comments = list(comment_list(photo=photo)[:200])
    context = {
        "photo": photo,
        "comments": comments,
        "can_moderate": can_moderate(request.user),
        "comment_max_length": COMMENT_MAX_LENGTH,
    }
    return render(request, "photos/photo.html", context)


@require_POST
@login_required
def photo_moderate(request: HttpRequest, photo_id: int) -> HttpResponse:
    """Hide a photo with a reason, or show it again: ops moderators only."""
    assert isinstance(request.user, User)
    photo = photo_get_for_moderator(moderator=request.user, photo_id=photo_id)
    if request.POST.get("restore"):
        photo_restore(photo=photo, moderator=request.user)
        messages.success(request, "The photo is visible again.")
    else:
        try:
            photo_hide(photo=photo, moderator=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "The photo is hidden; its owner sees your reason.")
    return redirect("photos:detail", photo_id=photo_id)


@require_POST
@login_required
def photo_like_toggle(request: HttpRequest, photo_id: int) -> HttpResponse:
    """The no-JS path of the like button (the JS client calls the API)."""
    assert isinstance(request.user, User)
    photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
    if getattr(photo, "liked_by_viewer", False):
        photo_unlike(user=request.user, photo=photo)
    else:
        photo_like(user=request.user, photo=photo)
    return redirect("photos:detail", photo_id=photo_id)


@require_POST
@login_required
def photo_comment(request: HttpRequest, photo_id: int) -> HttpResponse:
    assert isinstance(request.user, User)
    photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
    try:
        comment_create(author=request.user, photo=photo, text=request.POST.get("text", ""))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("photos:detail", photo_id=photo_id)


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    limits = {
        "max_megabytes": settings.PINSTABLR_UPLOAD_MAX_BYTES // 1_000_000,
        "max_megapixels": settings.PINSTABLR_UPLOAD_MAX_PIXELS // 1_000_000,
    }
    return render(request, "photos/upload.html", limits)


def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    people = (
        list(profile_search(query=query).order_by("user__username")[:20]) if len(query) >= 2 else []
    )
    tags = list(tag_search(query=query)[:20]) if query else []
    return render(request, "photos/search.html", {"query": query, "people": people, "tags": tags})
