"""``manage.py topology``: every database alias with its role, reachability and lag."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from pinstablr.db.console_schema import console_problems
from pinstablr.db.inspect import AliasReport, inspect_topology


class Command(BaseCommand):
    help = (
        "Show every database alias: role, engine, reachable, replication lag; and check that "
        "each console account reads reportable columns only (exit 1 if not)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        reports = inspect_topology()
        problems = console_problems()
        if options["json"]:
            self.stdout.write(json.dumps([asdict(report) for report in reports], indent=2))
        else:
            self._print(reports)
        for target, problem in problems:
            self.stderr.write(f"console {target}: {problem}")
        if problems:
            raise CommandError(f"{len(problems)} console access problem(s)")

    def _print(self, reports: list[AliasReport]) -> None:
        self.stdout.write(f"{'alias':<18} {'role':<26} {'engine':<8} {'state':<12} lag")
        for report in reports:
            engine = settings.DATABASES[report.alias]["ENGINE"].rsplit(".", 1)[-1]
            state = "reachable" if report.reachable else "DOWN"
            if report.lag_seconds is not None:
                lag = f"{report.lag_seconds:.0f}s"
            elif report.reachable and report.role.endswith("replica"):
                lag = "not replicating"
            else:
                lag = "-"
            line = f"{report.alias:<18} {report.role:<26} {engine:<8} {state:<12} {lag}"
            if report.error:
                line += f"  ({report.error})"
            self.stdout.write(line)
