"""Image worker tasks (queue ``images``): an id in, a service call, nothing else."""

from celery import shared_task
from django.db import DatabaseError

from . import services

# Storage and database hiccups are retried with backoff; a corrupt file is not an error
# here (the service marks the photo failed with its reason).
TRANSIENT = (OSError, DatabaseError)


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True,
    retry_backoff_max=300, max_retries=8,
)  # fmt: skip
def process_photo(photo_id: int) -> None:
    """Renditions, placeholder and clean master of one photo."""
    services.photo_process(photo_id=photo_id)


@shared_task(
    acks_late=True, autoretry_for=TRANSIENT, retry_backoff=True,
    retry_backoff_max=600, max_retries=5,
)  # fmt: skip
def encode_avif(photo_id: int) -> None:
    """AVIF renditions of a ready photo, at lower priority than new uploads."""
    services.photo_encode_avif(photo_id=photo_id)


@shared_task
def requeue_pending_photos() -> int:
    """Periodic: queue again photos whose processing was never queued or never finished."""
    return services.photos_requeue_pending()


@shared_task
def flush_photo_counters() -> int:
    """Periodic: write the view and like counts gathered in Redis to the database."""
    from . import counters

    return counters.flush()


@shared_task
def rescore_photos() -> int:
    """Periodic: recompute explore's engagement-with-decay scores of recent photos."""
    return services.photos_rescore()
