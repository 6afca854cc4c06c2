from django.apps import AppConfig


class DatabaseTopologyConfig(AppConfig):
    name = "pinstablr.db"
    label = "pinstablr_db"
    verbose_name = "Database topology"

    def ready(self) -> None:
        from . import signals

        signals.connect()
