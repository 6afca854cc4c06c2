"""``manage.py migrate_all``: migrate every writable database (primary, then experiments).

Replicas receive the primary's schema through replication; the router refuses to migrate
them, so they are not listed here.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from pinstablr.db.config import EXPERIMENTS, PRIMARY


class Command(BaseCommand):
    help = "Apply migrations to the primary and the experiments database."

    def handle(self, *args: Any, **options: Any) -> None:
        for alias in (PRIMARY, EXPERIMENTS):
            create_sqlite_folder(settings.DATABASES[alias])
            self.stdout.write(f"migrating {alias}")
            call_command(
                "migrate", database=alias, interactive=False, verbosity=options["verbosity"]
            )


def create_sqlite_folder(database: dict[str, Any]) -> None:
    """An embedded SQLite database needs its folder before its first connection."""
    if database["ENGINE"].endswith("sqlite3") and not str(database["NAME"]).startswith("file:"):
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
