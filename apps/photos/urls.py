from django.urls import path

from . import views

app_name = "photos"
urlpatterns = [
    path("explore/", views.explore, name="explore"),
    path("upload/", views.upload, name="upload"),
    path("p/<int:photo_id>/", views.photo_page, name="detail"),
    path("p/<int:photo_id>/like/", views.photo_like_toggle, name="like"),
    path("p/<int:photo_id>/comments/", views.photo_comment, name="comment"),
    path("p/<int:photo_id>/moderate/", views.photo_moderate, name="moderate"),
    path("t/<str:name>/", views.tag_page, name="tag"),
    path("search/", views.search, name="search"),
    path("media/hidden/<int:photo_id>/<path:key>", views.hidden_rendition_file, name="hidden-file"),
]
