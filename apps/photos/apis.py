from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import User

from . import storage
from .models import Photo, Rendition
from .selectors import photo_get_for_user
from .services import photo_create, photo_delete
from .validation import UploadRejected, megabytes

# Multipart framing around the file: a body this much over the file limit is still fine.
MULTIPART_OVERHEAD = 64 * 1024


class RenditionOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Rendition
        fields = ["width", "height", "format", "bytes", "url"]

    def get_url(self, rendition: Rendition) -> str:
        return storage.renditions().url(rendition.storage_key)


class PhotoOutputSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    renditions = RenditionOutputSerializer(many=True)

    class Meta:
        model = Photo
        fields = [
            "id", "owner", "caption", "status", "failure_reason", "width", "height",
            "placeholder", "dominant_color", "created_at", "renditions",
        ]  # fmt: skip


def rejected(error: UploadRejected) -> ValidationError:
    return ValidationError({"image": [error.message]}, code=error.code)


class PhotoCreateApi(APIView):
    """Upload a photo (multipart: ``image``, optional ``caption``).

    201 with the photo, status ``pending`` until the image workers have made its renditions;
    200 with the existing photo when the same user uploads the same file again.
    """

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        image = serializers.FileField(
            allow_empty_file=True,
            error_messages={
                "required": "No file was submitted. Choose a photo to upload.",
                "invalid": "No file was submitted. Choose a photo to upload.",
            },
        )
        caption = serializers.CharField(required=False, allow_blank=True, max_length=2200)

    @extend_schema(request=InputSerializer, responses={201: PhotoOutputSerializer})
    def post(self, request: Request) -> Response:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.PINSTABLR_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD:
            # Refused before the body is read.
            raise rejected(
                UploadRejected(
                    "file_too_large",
                    f"The upload is {declared / 1e6:.1f} MB; the limit is "
                    f"{megabytes(settings.PINSTABLR_UPLOAD_MAX_BYTES)} MB.",
                )
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["image"]
        owner = request.user
        assert isinstance(owner, User)
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
    """A photo; its owner may delete it."""

    def get_permissions(self):
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(responses={200: PhotoOutputSerializer})
    def get(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        return Response(PhotoOutputSerializer(photo).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, photo_id: int) -> Response:
        photo = photo_get_for_user(viewer=request.user, photo_id=photo_id)
        if photo.owner_id != request.user.pk:
            raise PermissionDenied("Only the owner can delete a photo.")
        photo_delete(photo=photo)
        return Response(status=status.HTTP_204_NO_CONTENT)
