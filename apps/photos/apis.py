from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts import cache_keys as account_keys
from apps.accounts.authentication import signed_in_user
from apps.common.cached_views import (
    CachedListMixin,
    cached_json,
    json_response,
    viewer_key,
    warm_response,
)
from apps.common.hotcache import get_or_compute
from apps.common.pagination import HottestFirstCursorPagination, OldestFirstCursorPagination

from . import cache_keys, counters, storage
from .filters import PhotoFilter
from .models import COMMENT_MAX_LENGTH, Comment, Photo, Rendition, Tag
from .permissions import can_delete_comment, can_edit_photo
from .selectors import (
    comment_list,
    photo_explore,
    photo_feed,
    photo_get_for_moderator,
    photo_get_for_user,
    photo_list,
    tag_search,
)
from .services import photo_create, photo_delete
from .services.engagement import (
    comment_create,
    comment_delete,
    comment_text_validate,
    photo_count_view,
    photo_like,
    photo_set_caption,
    photo_unlike,
)
from .services.moderation import REASON_MAX, photo_hide, photo_restore
from .services.upload import TooManyPending
from .validation import UploadRejected, megabytes

# Multipart framing around the file: a body this much over the file limit is still fine.
MULTIPART_OVERHEAD = 64 * 1024


class RenditionOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Rendition
        fields = ["width", "height", "format", "bytes", "url"]

    def get_url(self, rendition: Rendition) -> str:
        return storage.rendition_url(rendition.photo, rendition)  # the photo: prefetched


class PhotoOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    renditions = RenditionOutputSerializer(many=True)
    tags = serializers.SerializerMethodField()
    liked = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id", "owner", "caption", "tags", "status", "failure_reason", "width", "height",
            "placeholder", "dominant_color", "like_count", "comment_count", "liked",
            "created_at", "renditions", "hidden_reason",
        ]  # fmt: skip

    def get_tags(self, photo: Photo) -> list[str]:
        return [tag.name for tag in photo.tags.all()]

    def get_liked(self, photo: Photo) -> bool:
        return bool(getattr(photo, "liked_by_viewer", False))


def declared_length(request: Request) -> int:
    """The body size the client announced (0 if absent or not a number)."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class TooManyPendingUploads(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "too_many_pending_uploads"


def rejected(error: UploadRejected) -> APIException:
    """400 with the reason for a bad file; 429 when the owner's queue is full."""
    if isinstance(error, TooManyPending):
        return TooManyPendingUploads(error.message, code=error.code)
    return ValidationError({"image": [error.message]}, code=error.code)


class PhotoListCache(CachedListMixin):
    """A cached list of photos: rebuilt when any photo changes, or the viewer's likes."""

    def cache_versions(self, request: HttpRequest | Request) -> list[str]:
        return [cache_keys.PHOTOS]

    def viewer_versions(self, request: HttpRequest | Request) -> list[str]:
        return cache_keys.viewer_versions(request)


class PhotoListCreateApi(PhotoListCache, generics.ListAPIView):
    """Ready photos, newest first (``?owner=``, ``?tag=``); POST uploads one.

    Upload: multipart ``image`` and optional ``caption``.

    201 with the photo, status ``pending`` until the image workers have made its renditions;
    200 with the existing photo when the same user uploads the same file again; 400 with the
    reason for a file that is refused; 429 (code ``too_many_pending_uploads``) while the user
    has ``PINSTABLR_UPLOAD_MAX_PENDING_PER_USER`` photos waiting to be processed.
    """

    serializer_class = PhotoOutputSerializer
    filterset_class = PhotoFilter
    cache_prefix = "photos"
    parser_classes = [MultiPartParser]

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == "POST":
            self.throttle_scope = "uploads"
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        return photo_list(viewer=self.request.user)

    class UploadInputSerializer(serializers.Serializer):
        image = serializers.FileField(
            allow_empty_file=True,
            error_messages={
                "required": "No file was submitted. Choose a photo to upload.",
                "invalid": "No file was submitted. Choose a photo to upload.",
            },
        )
        caption = serializers.CharField(required=False, allow_blank=True, max_length=2200)

    @extend_schema(
        request=UploadInputSerializer,
        responses={201: PhotoOutputSerializer, 200: PhotoOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        declared = declared_length(request)
        if declared > settings.PINSTABLR_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD:
            # Refused before the body is read.
            raise rejected(
                UploadRejected(
                    "file_too_large",
                    f"The upload is {declared / 1e6:.1f} MB; the limit is "
                    f"{megabytes(settings.PINSTABLR_UPLOAD_MAX_BYTES)} MB.",
                )
            )
        data = self.UploadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["image"]
        owner = signed_in_user(request)
        try:
            photo, created = photo_create(
                owner=owner, upload=upload, size=upload.size, name=upload.name,
                caption=data.validated_data.get("caption", ""),
            )  # fmt: skip
        except UploadRejected as error:
            raise rejected(error) from error
        photo = photo_get_for_user(viewer=owner, photo_id=photo.pk)
        return Response(
            PhotoOutputSerializer(photo).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class PhotoDetailApi(APIView):
    """A photo; its owner may change its caption or delete it."""

    class CaptionSerializer(serializers.Serializer):
        caption = serializers.CharField(allow_blank=True, max_length=2200)

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    def owned(self, request: Request, photo_id: int) -> Photo:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        if not can_edit_photo(request.user, photo):
            raise PermissionDenied("Only the owner can change or delete a photo.")
        return photo

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        photo_id = kwargs["photo_id"]
        warm = warm_response(request, f"photo:{photo_id}:anon", [cache_keys.photo(photo_id)])
        if warm is None:
            return super().dispatch(request, *args, **kwargs)
        # Signed-out readers' entries exist only for visible photos (a 404 is not cached).
        photo_count_view(photo_id=photo_id, viewer=counters.viewer_of(request))
        return warm

    @extend_schema(responses={200: PhotoOutputSerializer})
    def get(self, request: Request, photo_id: int) -> HttpResponse:
        """The photo; a view is counted only for a photo everyone may see."""
        if not request.user.is_authenticated:  # the entry the warm path above reads
            response = cached_json(
                f"photo:{photo_id}:anon",
                lambda: self.representation(request, photo_id),
                versions=[cache_keys.photo(photo_id)],
                timeout=300,
            )
            visible = True  # a signed-out reader is shown nothing else
        else:
            # The owner and the moderators also see hidden (and the owner pending) photos:
            # their entries say whether the photo was visible to everyone when built (a key
            # of its own: entries of the plain JSON were kept under the old one).
            visible, content = get_or_compute(
                f"photo:{photo_id}:{viewer_key(request)}:visibility",
                lambda: self.rendered_with_visibility(request, photo_id),
                versions=[cache_keys.photo(photo_id), *cache_keys.viewer_versions(request)],
                timeout=300,
            )
            response = json_response(content)
        if visible:
            photo_count_view(photo_id=photo_id, viewer=counters.viewer_of(request))
        return response

    def representation(self, request: Request, photo_id: int) -> dict:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        return PhotoOutputSerializer(photo).data

    def rendered_with_visibility(self, request: Request, photo_id: int) -> tuple[bool, bytes]:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        return photo.is_visible, JSONRenderer().render(PhotoOutputSerializer(photo).data)

    @extend_schema(request=CaptionSerializer, responses={200: PhotoOutputSerializer})
    def patch(self, request: Request, photo_id: int) -> Response:
        photo = self.owned(request, photo_id)
        data = self.CaptionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo_set_caption(photo=photo, caption=data.validated_data["caption"])
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        return Response(PhotoOutputSerializer(photo).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, photo_id: int) -> Response:
        photo_delete(photo=self.owned(request, photo_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhotoModerationApi(APIView):
    """Ops moderators hide a photo from everyone but its owner (PUT, with a reason) or
    restore it (DELETE)."""

    class ReasonSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=REASON_MAX)

    @extend_schema(request=ReasonSerializer, responses={200: PhotoOutputSerializer})
    def put(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_moderator(moderator=request.user, photo_id=photo_id)
        data = self.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo_hide(
            photo=photo, moderator=signed_in_user(request), reason=data.validated_data["reason"]
        )
        return Response(
            PhotoOutputSerializer(photo_get_for_user(viewer=request.user, photo_id=photo_id)).data
        )

    @extend_schema(responses={200: PhotoOutputSerializer})
    def delete(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_moderator(moderator=request.user, photo_id=photo_id)
        photo_restore(photo=photo, moderator=signed_in_user(request))
        return Response(
            PhotoOutputSerializer(photo_get_for_user(viewer=request.user, photo_id=photo_id)).data
        )


class FeedApi(PhotoListCache, generics.ListAPIView):
    """The signed-in user's home feed: people they follow, newest first."""

    serializer_class = PhotoOutputSerializer
    cache_prefix = "feed"

    def cache_versions(self, request: HttpRequest | Request) -> list[str]:
        return [cache_keys.PHOTOS, account_keys.follows(request.user.pk)]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Photo.objects.none()
        return photo_feed(viewer=signed_in_user(self.request))


class ExploreApi(PhotoListCache, generics.ListAPIView):
    """Popular photos: engagement with time decay."""

    serializer_class = PhotoOutputSerializer
    cache_prefix = "explore"

    def cache_versions(self, request: HttpRequest | Request) -> list[str]:
        return [cache_keys.PHOTOS, cache_keys.SCORES]

    permission_classes = [AllowAny]
    pagination_class = HottestFirstCursorPagination

    def get_queryset(self):
        return photo_explore(viewer=self.request.user)


class LikeApi(APIView):
    """PUT likes a photo, DELETE takes the like back; both are safe to repeat."""

    class LikeOutputSerializer(serializers.Serializer):
        liked = serializers.BooleanField()
        like_count = serializers.IntegerField()

    def respond(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        liked = bool(getattr(photo, "liked_by_viewer", False))
        like_count = photo.like_count + counters.pending(photo.pk, "like_count")
        return Response({"liked": liked, "like_count": like_count})

    @extend_schema(request=None, responses={200: LikeOutputSerializer})
    def put(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        photo_like(user=signed_in_user(request), photo=photo)
        return self.respond(request, photo_id)

    @extend_schema(request=None, responses={200: LikeOutputSerializer})
    def delete(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        photo_unlike(user=signed_in_user(request), photo=photo)
        return self.respond(request, photo_id)


class CommentOutputSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Comment
        fields = ["id", "author", "text", "created_at"]


class CommentListCreateApi(generics.ListAPIView):
    """A photo's comments, oldest first; POST adds one."""

    serializer_class = CommentOutputSerializer
    pagination_class = OldestFirstCursorPagination

    class CommentInputSerializer(serializers.Serializer):
        text = serializers.CharField(
            max_length=COMMENT_MAX_LENGTH, validators=[comment_text_validate]
        )

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no photo
            return Comment.objects.none()
        photo = photo_get_for_user(viewer=self.request.user, photo_id=self.kwargs["photo_id"])
        return comment_list(photo=photo)

    @extend_schema(request=CommentInputSerializer, responses={201: CommentOutputSerializer})
    def post(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        data = self.CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comment_create(
            author=signed_in_user(request), photo=photo, text=data.validated_data["text"]
        )
        return Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailApi(APIView):
    """Its author, or the photo's owner, may delete a comment."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, comment_id: int) -> Response:
        comment = get_object_or_404(Comment.objects.select_related("photo"), pk=comment_id)
        if not can_delete_comment(request.user, comment):
            raise PermissionDenied("Only its author or the photo's owner can delete a comment.")
        comment_delete(comment=comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(parameters=[OpenApiParameter("q", str, description="Start of a tag")])
)
class TagSearchApi(generics.ListAPIView):
    """Tags starting with ``?q=``."""

    permission_classes = [AllowAny]
    pagination_class = None

    class TagOutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Tag
            fields = ["name"]

    serializer_class = TagOutputSerializer

    def get_queryset(self):
        return tag_search(query=self.request.query_params.get("q", ""))[:20]
