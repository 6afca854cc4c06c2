"""REST API v1: every app's endpoints under /api/v1/."""

from django.urls import path

from apps.accounts.apis import MeApi, UserDetailApi
from apps.photos.apis import PhotoCreateApi, PhotoDetailApi

app_name = "api"
urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("users/<str:username>/", UserDetailApi.as_view(), name="user-detail"),
    path("photos/", PhotoCreateApi.as_view(), name="photo-create"),
    path("photos/<int:photo_id>/", PhotoDetailApi.as_view(), name="photo-detail"),
]
