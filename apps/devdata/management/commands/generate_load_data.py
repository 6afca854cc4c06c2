"""``manage.py generate_load_data --photos 1000000 --events 10000000``: data for benchmarks.

Adds synthetic people, photos, likes, comments and follows spread over the last ``--days``
days, straight to the primary in batches. Only the dev and test settings install it (never
run it against production).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.devdata.services import generate_load_data


class Command(BaseCommand):
    help = "Add synthetic people, photos and events (likes, comments, follows) in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--photos", type=int, default=10_000)
        parser.add_argument("--events", type=int, default=100_000)
        parser.add_argument("--users", type=int, help="default: one per 10 photos, at least 10")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        users = options["users"] or max(10, options["photos"] // 10)
        verbose = options["verbosity"] > 1

        def progress(table: str, done: int) -> None:
            if verbose and done % (options["batch_size"] * 20) == 0:
                self.stdout.write(f"  {table}: {done:,}")

        try:
            summary = generate_load_data(
                users=users,
                photos=options["photos"],
                events=options["events"],
                days=options["days"],
                batch_size=options["batch_size"],
                seed=options["seed"],
                progress=progress,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        counts = ", ".join(f"{count:,} {table}" for table, count in summary.rows.items())
        self.stdout.write(f"inserted {counts} in {summary.seconds:.1f} s")
