from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch
from django.http import Http404

from apps.accounts.models import User

from .models import Photo, Rendition


def photo_get_for_user(*, viewer: User | AnonymousUser, photo_id: int) -> Photo:
    """A photo the viewer may see: the owner sees it in every state, others once ready."""
    photos = Photo.objects.select_related("owner").prefetch_related(
        Prefetch("renditions", queryset=Rendition.objects.order_by("width", "format"))
    )
    photo = photos.filter(pk=photo_id).first()
    if photo is None or (photo.status != Photo.Status.READY and photo.owner_id != viewer.pk):
        raise Http404("No such photo.")
    return photo
