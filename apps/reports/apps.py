from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        post_migrate.connect(_sync_definitions, sender=self, dispatch_uid="reports.sync")


def _sync_definitions(using: str = "default", **kwargs: Any) -> None:
    """After migrating ``default``: a Report row and a schedule for every definition in code."""
    if using != "default":
        return
    from .services.runs import report_sync_definitions

    report_sync_definitions()
