from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Development-only tools; production settings do not install this app."""

    name = "apps.devdata"
    label = "devdata"
    verbose_name = "Development data"
