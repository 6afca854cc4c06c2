"""REST API v1: every app's endpoints under /api/v1/."""

from django.urls import path, re_path

from apps.accounts import apis as accounts
from apps.common.api_errors import api_not_found
from apps.experiments import apis as experiments
from apps.photos import apis as photos
from apps.reports import apis as reports

app_name = "api"
urlpatterns = [
    path("auth/token/", accounts.LoginThrottledTokenApi.as_view(), name="auth-token"),
    path("me/", accounts.MeApi.as_view(), name="me"),
    path("users/", accounts.UserSearchApi.as_view(), name="user-search"),
    path("users/<str:username>/", accounts.UserDetailApi.as_view(), name="user-detail"),
    path("users/<str:username>/follow/", accounts.FollowApi.as_view(), name="user-follow"),
    path("photos/", photos.PhotoListCreateApi.as_view(), name="photo-list"),
    path("photos/<int:photo_id>/", photos.PhotoDetailApi.as_view(), name="photo-detail"),
    path("photos/<int:photo_id>/like/", photos.LikeApi.as_view(), name="photo-like"),
    path(
        "photos/<int:photo_id>/moderation/",
        photos.PhotoModerationApi.as_view(),
        name="photo-moderation",
    ),
    path(
        "photos/<int:photo_id>/comments/",
        photos.CommentListCreateApi.as_view(),
        name="photo-comments",
    ),
    path("comments/<int:comment_id>/", photos.CommentDetailApi.as_view(), name="comment-detail"),
    path("feed/", photos.FeedApi.as_view(), name="feed"),
    path(
        "experiments/assignments/",
        experiments.AssignmentsApi.as_view(),
        name="experiment-assignments",
    ),
    path("experiments/events/", experiments.EventsApi.as_view(), name="experiment-events"),
    path("reports/", reports.ReportListApi.as_view(), name="report-list"),
    path("reports/<slug:key>/", reports.ReportDetailApi.as_view(), name="report-detail"),
    path("explore/", photos.ExploreApi.as_view(), name="explore"),
    path("tags/", photos.TagSearchApi.as_view(), name="tag-search"),
    # Last: any other path under /api/v1/ answers 404 in the API's error shape, not HTML.
    re_path(r"^.*$", api_not_found),
]
