import secrets

from django.conf import settings
from django.db import models

from apps.common.models import TimeStampedModel


class PhotoQuerySet(models.QuerySet["Photo"]):
    def ready(self) -> "PhotoQuerySet":
        return self.filter(status=Photo.Status.READY)

    def visible(self) -> "PhotoQuerySet":
        """What everyone may see: ready and not hidden by a moderator."""
        return self.ready().filter(hidden_at__isnull=True)


def new_file_token() -> str:
    """A photo's folder in the renditions storage: unguessable, and new on every restore."""
    return secrets.token_hex(16)


class Tag(models.Model):
    """A #tag from captions, stored lower-case."""

    name = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"#{self.name}"


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
    # The folder its public renditions are in (storage.rendition_key): random, so a photo's
    # files are its own, and replaced when a hidden photo is restored (services/files.py).
    file_token = models.CharField(max_length=32, default=new_file_token)
    # Upright size (EXIF orientation applied), known from the header at upload time.
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    placeholder = models.CharField(max_length=64, blank=True, help_text="ThumbHash, base64")
    dominant_color = models.CharField(max_length=7, blank=True, help_text="#rrggbb")
    pipeline_version = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, related_name="photos", blank=True)
    # Counters: incremented in Redis, written back here in batches (see counters.py).
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    view_count = models.PositiveBigIntegerField(default=0)
    # Engagement with time decay, recomputed periodically; explore is ordered by it.
    hot_score = models.FloatField(default=0.0, db_index=True)
    # Set by an ops moderator: a hidden photo is shown to its owner only, with the reason.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "sha256"], name="photo_unique_upload_per_owner"
            )
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]
        permissions = [("moderate_photo", "Can hide and restore any photo")]

    def __str__(self) -> str:
        return f"photo {self.pk} by {self.owner_id} ({self.status})"

    @property
    def is_visible(self) -> bool:
        """What everyone may see (``PhotoQuerySet.visible``): ready and not hidden."""
        return self.status == self.Status.READY and self.hidden_at is None


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


class Like(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes"
    )
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="likes")
    # Indexed for the reports, which count by day.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "photo"], name="like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.photo_id}"


COMMENT_MAX_LENGTH = 1000


class Comment(TimeStampedModel):
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    text = models.TextField(max_length=COMMENT_MAX_LENGTH)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["photo", "created_at"])]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.photo_id}"
