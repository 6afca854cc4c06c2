from celery import shared_task

from .services import object_permissions_sweep_orphans


@shared_task
def sweep_orphan_permissions() -> int:
    return object_permissions_sweep_orphans()
