"""``manage.py withdraw_hidden_files``: take hidden photos' files out of the public storage."""

from typing import Any

from django.core.management.base import BaseCommand

from apps.photos.services.files import photos_withdraw_hidden_files


class Command(BaseCommand):
    help = (
        "Move the rendition files of every hidden photo to the private storage (once after "
        "upgrading: photos hidden before then kept public files). Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = photos_withdraw_hidden_files()
        self.stdout.write(f"checked the files of {count} hidden photo(s)")
