"""``manage.py load_site_experiments``: the site's experiments as drafts. Safe to re-run."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.experiments.catalog import SITE_EXPERIMENTS
from apps.experiments.models import Experiment
from apps.experiments.services import experiment_create


class Command(BaseCommand):
    help = "Create the experiments the site's code uses, as drafts owned by a UX team."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", default="ux", help="Group that owns them (default: ux).")

    def handle(self, *args: Any, **options: Any) -> None:
        team = Group.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"No team {options['team']!r}: run the migrations first.")
        for design in SITE_EXPERIMENTS:
            if Experiment.objects.filter(key=design["key"]).exists():
                continue
            fields = {k: v for k, v in design.items() if k != "variants"}
            experiment_create(actor=None, owning_team=team, variants=design["variants"], **fields)
            self.stdout.write(f"created draft {design['key']} owned by {team.name}")
