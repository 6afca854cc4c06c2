from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "apps.photos"
    label = "photos"

    def ready(self) -> None:
        from .imaging import configure_pillow

        configure_pillow()
