"""Photo writes: upload, processing on the image workers, engagement, deletion."""

from .pipeline import (
    PIPELINE_VERSION,
    enqueue_avif,
    photo_encode_avif,
    photo_process,
    photos_reprocess_outdated,
)
from .removal import photo_delete
from .scores import photos_rescore
from .upload import enqueue_processing, photo_create, photos_requeue_pending

__all__ = [
    "PIPELINE_VERSION",
    "enqueue_avif",
    "enqueue_processing",
    "photo_create",
    "photo_delete",
    "photo_encode_avif",
    "photo_process",
    "photos_reprocess_outdated",
    "photos_requeue_pending",
    "photos_rescore",
]
