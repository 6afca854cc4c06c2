from django.conf import settings
from django.db import models

from apps.common.models import TimeStampedModel


class PhotoQuerySet(models.QuerySet["Photo"]):
    def ready(self) -> "PhotoQuerySet":
        return self.filter(status=Photo.Status.READY)


class Photo(TimeStampedModel):
    """A photo a user shared. Its files live in storage under server-made keys."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos"
    )
    caption = models.TextField(max_length=2200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=300, blank=True)
    # SHA-256 of the uploaded bytes: names the stored original and finds duplicate uploads.
    sha256 = models.CharField(max_length=64)
    source_format = models.CharField(max_length=8)
    # The original as uploaded, private, until the pipeline has made the clean copy below.
    upload_key = models.CharField(max_length=200, blank=True)
    # The original with every metadata block removed: what later pipeline versions read.
    original_key = models.CharField(max_length=200, blank=True)
    original_bytes = models.PositiveBigIntegerField(default=0)
    # Upright size (EXIF orientation applied), known from the header at upload time.
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    placeholder = models.CharField(max_length=64, blank=True, help_text="ThumbHash, base64")
    dominant_color = models.CharField(max_length=7, blank=True, help_text="#rrggbb")
    pipeline_version = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "sha256"], name="photo_unique_upload_per_owner"
            )
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"photo {self.pk} by {self.owner_id} ({self.status})"


class Rendition(models.Model):
    """One resized, re-encoded, metadata-free copy of a photo, immutable once written."""

    class Format(models.TextChoices):
        JPEG = "jpeg"
        WEBP = "webp"
        AVIF = "avif"

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="renditions")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=8, choices=Format.choices)
    # Content-addressed: the same bytes always have the same key, so writing twice is harmless.
    storage_key = models.CharField(max_length=200)
    bytes = models.PositiveIntegerField()

    class Meta:
        ordering = ["width", "format"]
        constraints = [
            models.UniqueConstraint(
                fields=["photo", "width", "format"], name="rendition_unique_size_format"
            )
        ]

    def __str__(self) -> str:
        return f"{self.width}w {self.format} of photo {self.photo_id}"
