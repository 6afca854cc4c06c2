"""``manage.py recompute_experiment_results``: what the periodic task does, right now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.experiments import buffer
from apps.experiments.analysis import experiments_results_refresh


class Command(BaseCommand):
    help = "Flush queued exposures and events, then recompute the results of live experiments."

    def handle(self, *args: Any, **options: Any) -> None:
        written = buffer.flush()
        computed = experiments_results_refresh()
        self.stdout.write(f"{written} records written, {computed} experiments recomputed")
