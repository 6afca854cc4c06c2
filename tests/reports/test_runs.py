"""Runs: one per report and window, idempotent, recorded with their outcome; schedules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from apps.reports.definitions import REGISTRY, Window
from apps.reports.models import Report, ReportRow, ReportRun
from apps.reports.services.runs import (
    report_run,
    report_run_due,
    report_sync_definitions,
    windows_due,
)
from apps.reports.tasks import run_report_window, run_scheduled_report
from tests.factories import UserFactory

from .factories import ReportFactory
from .seed import DAY, at, days, seed

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_running_a_window_again_replaces_its_rows_and_keeps_one_run():
    seed()
    report = ReportFactory(key="signups")
    window = Window(DAY, days(1))
    first = report_run(report=report, window=window)
    assert first.status == ReportRun.Status.SUCCEEDED
    assert first.row_count == 1
    assert first.duration_ms is not None
    late = UserFactory()
    type(late).objects.filter(pk=late.pk).update(date_joined=at(DAY, 12))

    second = report_run(report=report, window=window)

    assert ReportRun.objects.filter(report=report).count() == 1
    assert second.pk == first.pk
    assert second.attempts == 2
    assert [r.values for r in ReportRow.objects.filter(report=report)] == [{"signups": 3}]


def test_top_lists_keep_a_fixed_number_of_rows_per_day():
    seed()
    report = ReportFactory(key="top_photos")
    run = report_run(report=report, window=Window(DAY, days(2)))
    # DAY: two photos engaged with in the day and in 7 days, three in 30. The day after: p1
    # in the day (u4's like), then again two and three.
    assert run.row_count == ReportRow.objects.filter(report=report).count() == 2 + 2 + 3 + 1 + 2 + 3


def test_a_failing_run_is_recorded_with_its_error_and_raised(monkeypatch):
    report = ReportFactory(key="signups")
    definition = REGISTRY["signups"]

    def broken(window):
        raise RuntimeError("replica went away")

    monkeypatch.setitem(
        REGISTRY, "signups", type(definition)(**{**definition.__dict__, "compute": broken})
    )
    with pytest.raises(RuntimeError):
        report_run(report=report, window=Window(DAY, days(1)))
    run = ReportRun.objects.get(report=report)
    assert run.status == ReportRun.Status.FAILED
    assert "RuntimeError: replica went away" in run.error
    assert run.finished_at is not None
    assert not ReportRow.objects.exists()


def test_scheduled_runs_catch_up_missed_days_and_refresh_the_newest():
    seed()
    report = ReportFactory(key="signups")
    today = days(5)
    for day in (days(1), days(2)):
        report_run(report=report, window=Window(day, day + dt.timedelta(days=1)))
    due = windows_due(report=report, today=today)
    # Done: days 1 and 2. Missing since the first sign-up (60 days before): all others;
    # the newest complete day (4) always.
    starts = [w.start for w in due]
    assert days(1) not in starts
    assert days(2) not in starts
    assert starts[-2:] == [days(3), days(4)]
    assert all(w.end <= today for w in due)
    runs = report_run_due(report=report, today=today)
    assert {r.status for r in runs} == {ReportRun.Status.SUCCEEDED}
    assert windows_due(report=report, today=today) == [Window(days(4), days(5))]


def test_a_weekly_report_waits_for_the_week_to_end():
    seed()
    report = ReportFactory(key="retention")
    # On Wednesday the newest complete week is the one before DAY's.
    due = windows_due(report=report, today=days(2))
    assert due[-1] == Window(days(-7), DAY)
    # From the next Monday on, DAY's week is complete.
    assert windows_due(report=report, today=days(7))[-1] == Window(DAY, days(7))


def test_a_new_install_computes_only_the_newest_window():
    report = ReportFactory(key="signups")
    assert windows_due(report=report, today=DAY) == [Window(days(-1), DAY)]


def test_the_scheduled_task_runs_the_due_windows_of_an_active_report(monkeypatch):
    seed()
    report = ReportFactory(key="uploads")
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(days(1), 0, 15))
    run_scheduled_report("uploads")
    newest = ReportRun.objects.filter(report=report).order_by("-window_start").first()
    assert newest is not None
    assert (newest.window_start, newest.status) == (DAY, ReportRun.Status.SUCCEEDED)
    assert newest.trigger == ReportRun.Trigger.SCHEDULE
    Report.objects.filter(pk=report.pk).update(is_active=False)
    ReportRun.objects.all().delete()
    run_scheduled_report("uploads")
    assert not ReportRun.objects.exists()


def test_a_window_task_computes_that_window():
    seed()
    report = ReportFactory(key="engagement")
    run_report_window(report.pk, DAY.isoformat(), days(1).isoformat())
    assert ReportRow.objects.get(report=report, day=DAY).values["likes"] == 3


def test_report_tasks_go_to_the_reports_queue():
    from pinstablr.celery import app

    for task in (run_scheduled_report, run_report_window):
        assert app.amqp.router.route({}, task.name)["queue"].name == "reports"


def test_every_definition_gets_a_report_and_a_schedule_editable_in_the_admin():
    Report.objects.all().delete()  # migrate made them: start from none
    created = report_sync_definitions()
    assert sorted(r.key for r in created) == sorted(REGISTRY)
    assert {r.key for r in Report.objects.all()} == set(REGISTRY)
    task = PeriodicTask.objects.get(name="report: signups")
    assert task.task == "apps.reports.tasks.run_scheduled_report"
    assert task.queue == "reports"
    assert '"signups"' in task.kwargs
    assert PeriodicTask.objects.get(name="report: retention").crontab.day_of_week == "1"
    # An edit made in the admin survives the next sync (e.g. after a deploy's migrate).
    task.crontab.hour = "3"
    task.crontab.save()
    Report.objects.filter(key="signups").update(name="Sign-ups (renamed)")
    assert report_sync_definitions() == []
    assert PeriodicTask.objects.get(name="report: signups").crontab.hour == "3"
    assert Report.objects.get(key="signups").name == "Sign-ups (renamed)"


def test_backfill_command_computes_every_window_of_the_range():
    seed()
    call_command("backfill_reports", "--start", days(-2).isoformat(), "--end", days(1).isoformat())
    signups = Report.objects.get(key="signups")
    assert ReportRun.objects.filter(report=signups, status="succeeded").count() == 3
    retention = Report.objects.get(key="retention")
    assert ReportRun.objects.filter(report=retention).count() == 2  # the two weeks touched
    # Again: the same runs, computed once more, nothing doubled.
    rows = ReportRow.objects.count()
    call_command("backfill_reports", "--start", days(-2).isoformat(), "--end", days(1).isoformat())
    assert ReportRow.objects.count() == rows
    assert set(ReportRun.objects.values_list("attempts", flat=True)) == {2}


def test_backfill_command_rejects_an_empty_range():
    with pytest.raises(CommandError, match="before"):
        call_command("backfill_reports", "--start", DAY.isoformat(), "--end", DAY.isoformat())


def test_beat_reads_the_primary_and_touches_its_schedule_file(tmp_path: Path):
    from django.db import router
    from django_celery_beat.models import PeriodicTask

    from apps.reports.beat import DatabaseScheduler
    from pinstablr.celery import app

    heartbeat = tmp_path / "celerybeat-schedule"
    DatabaseScheduler(app=app, schedule_filename=str(heartbeat), lazy=True).tick()
    assert heartbeat.exists()
    assert router.db_for_read(PeriodicTask) == "default"  # never a replica a few seconds behind
    assert app.conf.beat_scheduler == "apps.reports.beat:DatabaseScheduler"
