"""``manage.py migrate_all``: migrate every writable database (primary, then experiments),
then rebuild the query consoles' schemas of views for the new tables and columns.

Replicas receive the primary's schema, and the consoles' views and accounts, through
replication; the router refuses to migrate them, so they are not listed here.
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from pinstablr.db.config import EXPERIMENTS, PRIMARY
from pinstablr.db.console_schema import console_databases


class Command(BaseCommand):
    help = "Apply migrations to the primary and the experiments database."

    def handle(self, *args: Any, **options: Any) -> None:
        for alias in (PRIMARY, EXPERIMENTS):
            create_sqlite_folder(settings.DATABASES[alias])
            self.stdout.write(f"migrating {alias}")
            call_command(
                "migrate", database=alias, interactive=False, verbosity=options["verbosity"]
            )
        consoles = console_databases()
        if consoles and all(database.admin_url for database in consoles):
            call_command("console_schema", "apply", stdout=self.stdout)
        elif consoles:
            self.stderr.write(
                "console schemas not rebuilt: set DATABASE_ADMIN_URL and "
                "DATABASE_EXPERIMENTS_ADMIN_URL, or run `manage.py console_schema apply` as "
                "an administrator"
            )


def create_sqlite_folder(database: dict[str, Any]) -> None:
    """An embedded SQLite database needs its folder before its first connection."""
    if database["ENGINE"].endswith("sqlite3") and not str(database["NAME"]).startswith("file:"):
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
