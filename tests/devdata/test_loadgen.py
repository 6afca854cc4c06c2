"""generate_load_data: bounded for tests, batched, realistic enough for the reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Follow, User
from apps.photos.models import Comment, Like, Photo
from apps.reports.definitions import REGISTRY

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_small_numbers_give_that_much_data_in_batches_spread_over_the_days(capsys):
    with CaptureQueriesContext(connections["default"]) as queries:
        call_command(
            "generate_load_data", "--photos", "200", "--events", "2000", "--days", "7",
            "--batch-size", "250",
        )  # fmt: skip
    assert "inserted" in capsys.readouterr().out
    assert User.objects.count() == 20
    assert Photo.objects.count() == 200
    assert Comment.objects.count() == 600
    # Repeated pairs are skipped (20 people, skewed choices: many repeats at this size).
    assert 600 < Like.objects.count() <= 1200
    assert 40 < Follow.objects.count() <= 200
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) < 30  # batches, not a statement per row
    now = timezone.now()
    oldest = Like.objects.order_by("created_at").first().created_at
    assert now - dt.timedelta(days=7, minutes=1) < oldest < now - dt.timedelta(days=5)
    ready = Photo.objects.filter(status="ready")
    assert ready.count() > 180
    assert all(p.processed_at > p.created_at for p in ready[:50])
    # Every user is usable by the rest of the site: a profile, no usable password.
    assert not User.objects.filter(profile__isnull=True).exists()
    assert not User.objects.first().has_usable_password()


def test_the_reports_compute_on_generated_data():
    call_command("generate_load_data", "--photos", "100", "--events", "1000", "--days", "3")
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    engagement = REGISTRY["engagement"].compute(REGISTRY["engagement"].window_for(yesterday))
    assert engagement[0].values["likes"] > 0
    top = REGISTRY["top_photos"].compute(REGISTRY["top_photos"].window_for(yesterday))
    assert [r.values["rank"] for r in top if r.values["period"] == 1][:3] == [1, 2, 3]


def test_nonsense_sizes_are_refused():
    with pytest.raises(CommandError):
        call_command("generate_load_data", "--photos", "0")
