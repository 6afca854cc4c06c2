"""``manage.py console_schema apply|check|sql``: the query consoles' views, accounts and grants.

``apply`` (run by ``migrate_all`` when the administrator URLs are set) writes the console
schemas generated from the data classification; ``check`` connects as each console account
and fails if it can read anything the classification does not allow; ``sql`` prints what
``apply`` would run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pinstablr.db.console_schema import (
    admin_connection,
    apply,
    console_databases,
    console_problems,
    schema_sql,
    server_state,
)


class Command(BaseCommand):
    help = "Apply, check or print the query consoles' schemas of views and their accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["apply", "check", "sql"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "check":
            problems = console_problems()
            for target, problem in problems:
                self.stderr.write(f"{target}: {problem}")
            if problems:
                raise CommandError(f"{len(problems)} console access problem(s)")
            self.stdout.write("every console account reads reportable columns only")
            return
        for database in console_databases():
            if not database.admin_url:
                raise CommandError(
                    f"no administrator URL for {database.plan.base}: set DATABASE_ADMIN_URL "
                    "(or DATABASE_EXPERIMENTS_ADMIN_URL) to build its console schema"
                )
            connection = admin_connection(database.admin_url)
            try:
                if action == "sql":
                    with connection.cursor() as cursor:
                        statements = schema_sql(
                            database.plan, **server_state(cursor, database.plan)
                        )
                    self.stdout.write(";\n".join(statements) + ";")
                else:
                    statements = apply(connection, database.plan)
                    self.stdout.write(
                        f"{database.plan.console}: {len(statements)} statements for "
                        f"{', '.join(database.targets)}"
                    )
            finally:
                connection.close()
