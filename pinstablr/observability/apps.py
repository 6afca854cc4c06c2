import logging

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "pinstablr.observability"
    label = "pinstablr_observability"
    verbose_name = "Operations: logs and metrics"

    def ready(self) -> None:
        from . import celery_hooks

        celery_hooks.connect()
        # Python's warnings become log lines ("py.warnings"), in the same format as the rest.
        logging.captureWarnings(True)
