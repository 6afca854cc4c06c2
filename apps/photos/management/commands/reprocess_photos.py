"""``manage.py reprocess_photos``: queue ready photos made by an older pipeline version."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.photos.services import PIPELINE_VERSION, photos_reprocess_outdated


class Command(BaseCommand):
    help = "Queue every photo whose renditions predate the current pipeline version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="at most this many")

    def handle(self, *args: Any, **options: Any) -> None:
        count = photos_reprocess_outdated(limit=options["limit"])
        self.stdout.write(f"queued {count} photo(s) for pipeline version {PIPELINE_VERSION}")
