"""Scheduled reports on the real MariaDB topology, against hand-written SQL for the same numbers.

One run, all on loopback:

1. the MariaDB topology of ``deploy/local/topology.py`` (primary, replicas, reporting,
   experiments) under ``var/bench-reports-topology`` on ports 25306-25310, fresh databases,
   ``migrate_all``;
2. ``generate_load_data`` in two steps: first a tenth of the events (and photos and people),
   then the rest, all spread over the last ``--days`` days; the reporting replica caught up
   after each;
3. after each step, the series and leaderboard reports backfilled over the period and the
   dashboards read from their rollups: time, SQL statements and rows read per dashboard, at
   1x and 10x the events (the claim: the same, since a dashboard reads a row per day);
4. on the full data, each scheduled report's run for yesterday (retention: the last complete
   week) through ``report_run`` (the ORM on ``reporting``, plus storing its rows on the
   primary), interleaved with the hand-written SQL a DBA would write for the same numbers
   on a raw connection to the reporting replica; the medians of ``--repeat`` rounds, their
   ratio (target: at most 1.2), and a check that both give the same numbers.

    .venv/bin/python bench/reports.py                          # 100k photos, 1M events
    .venv/bin/python bench/reports.py --photos 1000000 --events 10000000   # the full size

Everything it started is stopped at the end, on error too.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import functools  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

from bench.http_load import (  # noqa: E402
    BenchError,
    command_output,
    cpu_model,
    memory_total,
    version_of,
)
from deploy.local import topology as local_topology  # noqa: E402

BASE_DIR = REPO / "var" / "bench-reports-topology"
VAR_DIR = REPO / "var" / "bench-reports"
APP_DATABASE = "pinstablr_benchreports"
EXPERIMENTS_DATABASE = "pinstablr_experiments_benchreports"
TARGET_RATIO = 1.2
DASHBOARD_REPORTS = ("signups", "engagement", "top_photos", "top_creators")

# --------------------------------------------------------------------------------------------
# The hand-written SQL: what a DBA would type for each report's numbers on one day.
# --------------------------------------------------------------------------------------------

ENGAGEMENT_UNION = """
    SELECT photo_id AS p, user_id AS u, 1 AS l, 0 AS c FROM photos_like
     WHERE created_at >= %(start)s AND created_at < %(end)s
    UNION ALL
    SELECT photo_id, author_id, 0, 1 FROM photos_comment
     WHERE created_at >= %(start)s AND created_at < %(end)s"""

HAND_SQL: dict[str, list[str]] = {
    "signups": [
        "SELECT COUNT(*) FROM accounts_user "
        "WHERE date_joined >= %(start)s AND date_joined < %(end)s"
    ],
    "uploads": [
        """SELECT COUNT(*), SUM(status = 'ready'), SUM(status = 'failed'),
                  COUNT(DISTINCT owner_id), COALESCE(SUM(original_bytes), 0)
             FROM photos_photo WHERE created_at >= %(start)s AND created_at < %(end)s"""
    ],
    "active_users": [
        """SELECT COUNT(DISTINCT IF(t >= %(start)s, u, NULL)),
                  COUNT(DISTINCT IF(t >= %(week)s, u, NULL)), COUNT(DISTINCT u)
             FROM (SELECT owner_id u, created_at t FROM photos_photo
                    WHERE created_at >= %(month)s AND created_at < %(end)s
                   UNION ALL SELECT user_id, created_at FROM photos_like
                    WHERE created_at >= %(month)s AND created_at < %(end)s
                   UNION ALL SELECT author_id, created_at FROM photos_comment
                    WHERE created_at >= %(month)s AND created_at < %(end)s
                   UNION ALL SELECT follower_id, created_at FROM accounts_follow
                    WHERE created_at >= %(month)s AND created_at < %(end)s) a"""
    ],
    "engagement": [
        "SELECT SUM(l), SUM(c), COUNT(DISTINCT p), COUNT(DISTINCT u) "  # noqa: S608
        f"FROM ({ENGAGEMENT_UNION}) e"
    ],
    "processing_latency": [
        """SELECT COUNT(*), AVG(lat), MAX(lat), MAX(p50), MAX(p95) FROM (
             SELECT TIMESTAMPDIFF(MICROSECOND, created_at, processed_at) lat,
                    PERCENTILE_DISC(0.5) WITHIN GROUP
                      (ORDER BY TIMESTAMPDIFF(MICROSECOND, created_at, processed_at)) OVER () p50,
                    PERCENTILE_DISC(0.95) WITHIN GROUP
                      (ORDER BY TIMESTAMPDIFF(MICROSECOND, created_at, processed_at)) OVER () p95
               FROM photos_photo WHERE status = 'ready'
                AND processed_at >= %(start)s AND processed_at < %(end)s) x"""
    ],
    "retention": [
        """SELECT CEIL(DATEDIFF(%(start)s, DATE(u.date_joined)) / 7) AS wk, COUNT(*),
                  SUM(EXISTS(SELECT 1 FROM photos_photo x WHERE x.owner_id = u.id
                              AND x.created_at >= %(start)s AND x.created_at < %(end)s)
                   OR EXISTS(SELECT 1 FROM photos_like x WHERE x.user_id = u.id
                              AND x.created_at >= %(start)s AND x.created_at < %(end)s)
                   OR EXISTS(SELECT 1 FROM photos_comment x WHERE x.author_id = u.id
                              AND x.created_at >= %(start)s AND x.created_at < %(end)s)
                   OR EXISTS(SELECT 1 FROM accounts_follow x WHERE x.follower_id = u.id
                              AND x.created_at >= %(start)s AND x.created_at < %(end)s))
             FROM accounts_user u
            WHERE u.date_joined >= %(cohorts)s AND u.date_joined < %(end)s
            GROUP BY wk ORDER BY wk"""
    ],
}
for _key, _owner in (("top_photos", None), ("top_creators", "ph.owner_id")):
    HAND_SQL[_key] = [
        (
            f"SELECT {_owner or 'e.p'} AS k, SUM(e.l), SUM(e.c), SUM(e.l) + SUM(e.c) AS s "  # noqa: S608
            f"FROM ({ENGAGEMENT_UNION.replace('%(start)s', f'%(from{days})s')}) e "
            + ("JOIN photos_photo ph ON ph.id = e.p " if _owner else "")
            + "GROUP BY k ORDER BY s DESC, k LIMIT 20"
        )
        for days in (1, 7, 30)
    ]


def hand_parameters(key: str, day: dt.date) -> dict[str, Any]:
    """Bounds (naive UTC, as MariaDB stores them) for the hand-written SQL of ``key``."""
    start = dt.datetime.combine(day, dt.time.min)
    if key == "retention":
        return {
            "start": start,
            "end": start + dt.timedelta(days=7),
            "cohorts": start - dt.timedelta(weeks=11),
        }
    end = start + dt.timedelta(days=1)
    return {
        "start": start,
        "end": end,
        "week": start - dt.timedelta(days=6),
        "month": start - dt.timedelta(days=29),
        **{f"from{days}": end - dt.timedelta(days=days) for days in (1, 7, 30)},
    }


def run_hand(connection: Any, key: str, day: dt.date) -> list[list[tuple[Any, ...]]]:
    """The hand-written SQL of ``key`` on a raw connection; every statement's rows."""
    params = hand_parameters(key, day)
    results = []
    cursor = connection.cursor()
    for sql in HAND_SQL[key]:
        cursor.execute(sql, params)
        results.append(list(cursor.fetchall()))
    if key in ("top_photos", "top_creators"):
        # The names that go with the ids, as the report stores them.
        ids = sorted({row[0] for rows in results for row in rows}) or [0]
        marks = ", ".join(["%s"] * len(ids))
        if key == "top_photos":
            cursor.execute(
                "SELECT ph.id, ph.caption, u.username FROM photos_photo ph "  # noqa: S608
                f"JOIN accounts_user u ON u.id = ph.owner_id WHERE ph.id IN ({marks})",
                ids,
            )
        else:
            cursor.execute(f"SELECT id, username FROM accounts_user WHERE id IN ({marks})", ids)  # noqa: S608
        results.append(list(cursor.fetchall()))
    cursor.close()
    return results


def _seconds(microseconds: Any) -> float | None:
    return None if microseconds is None else round(float(microseconds) / 1_000_000, 3)


def hand_numbers(key: str, results: list[list[tuple[Any, ...]]]) -> Any:
    """The hand-written results in the shape of the report's stored values, to compare."""
    first = results[0]
    if key == "signups":
        return [first[0][0]]
    if key == "uploads":
        n, ready, failed, uploaders, size = first[0]
        return [n, int(ready or 0), int(failed or 0), uploaders, int(size)]
    if key in ("active_users", "engagement"):
        return [int(value or 0) for value in first[0]]
    if key == "processing_latency":
        n, mean, worst, p50, p95 = first[0]
        return [n, _seconds(p50), _seconds(p95), _seconds(mean), _seconds(worst)]
    if key == "retention":
        return {int(week): [size, int(active)] for week, size, active in first}
    return [
        [(k, int(likes), int(comments)) for k, likes, comments, _ in rows] for rows in results[:3]
    ]


def report_numbers(key: str, rows: list[dict[str, Any]]) -> Any:
    """The stored values of one run, in the shape of :func:`hand_numbers`."""
    if key == "signups":
        return [rows[0]["signups"]]
    if key == "uploads":
        return [rows[0][k] for k in ("uploads", "ready", "failed", "uploaders", "bytes")]
    if key == "active_users":
        return [rows[0][k] for k in ("dau", "wau", "mau")]
    if key == "engagement":
        return [rows[0][k] for k in ("likes", "comments", "photos", "people")]
    if key == "processing_latency":
        keys = ("ready", "p50_seconds", "p95_seconds", "avg_seconds", "max_seconds")
        return [rows[0][k] for k in keys]
    if key == "retention":
        return {r["week"]: [r["size"], r["active"]] for r in rows if r["size"]}
    ident = "user_id" if key == "top_creators" else "photo_id"
    return [
        [(r[ident], r["likes"], r["comments"]) for r in rows if r["period"] == period]
        for period in (1, 7, 30)
    ]


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def print_environment(args: argparse.Namespace) -> None:
    print("== environment")
    print(f"date        {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
    print(f"cpu         {cpu_model()}")
    print(f"cores       {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable by this process)")
    print(f"memory      {memory_total()}")
    print(f"kernel      {platform.system()} {platform.release()}")
    print(f"python      {platform.python_version()}")
    for package in ("Django", "mysqlclient"):
        print(f"{package:<11} {version_of(package)}")
    print(f"mariadb     {command_output('/usr/sbin/mariadbd', '--version')}")
    print(
        f"git         {command_output('git', '-C', str(REPO), 'describe', '--always', '--dirty')}"
    )
    print(
        f"data        {args.users or args.photos // 10:,} people, {args.photos:,} photos, "
        f"{args.events:,} events over {args.days} days; {args.repeat} rounds per report"
    )
    print("server      innodb_buffer_pool_size=32M (the topology's; the tables do not fit)")
    print()


def configure_django(info: dict[str, Any]) -> None:
    def url(name: str, database: str) -> str:
        return info[name].rsplit("/", 1)[0] + "/" + database

    os.environ.update(
        DJANGO_SETTINGS_MODULE="pinstablr.settings.dev",
        DJANGO_DEBUG="0",
        PINSTABLR_VAR_DIR=str(VAR_DIR),
        CELERY_BROKER_URL="memory://",
        LOG_LEVEL="WARNING",
        DATABASE_URL=url("DATABASE_URL", APP_DATABASE),
        DATABASE_REPLICA_URLS=url("DATABASE_REPLICA_URLS", APP_DATABASE),
        DATABASE_REPORTING_URL=url("DATABASE_REPORTING_URL", APP_DATABASE),
        DATABASE_EXPERIMENTS_READ_URL=url("DATABASE_EXPERIMENTS_READ_URL", APP_DATABASE),
        DATABASE_EXPERIMENTS_URL=url("DATABASE_EXPERIMENTS_URL", EXPERIMENTS_DATABASE),
    )
    import django

    django.setup()


def wait_replicas(topology: Any) -> None:
    position = topology.sql("primary", "SELECT @@global.gtid_binlog_pos", base_dir=BASE_DIR)
    for replica in ("replica", "reporting"):
        waited = topology.sql(
            replica, f"SELECT MASTER_GTID_WAIT('{position[0][0]}', 600)", base_dir=BASE_DIR
        )
        if str(waited[0][0]) != "0":
            raise BenchError(f"{replica} did not catch up in 600 s")


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


def generate(args: argparse.Namespace, share: float, seed: int, topology: Any) -> None:
    from apps.devdata.services import generate_load_data

    users = max(10, int((args.users or args.photos // 10) * share))
    started = time.monotonic()
    summary = generate_load_data(
        users=users, photos=max(1, int(args.photos * share)),
        events=int(args.events * share), days=args.days, seed=seed, batch_size=5000,
    )  # fmt: skip
    wait_replicas(topology)
    counts = ", ".join(f"{count:,} {table}" for table, count in summary.rows.items())
    print(f"generated {counts} in {time.monotonic() - started:.1f} s (replicas caught up)")


def dashboards(args: argparse.Namespace, label: str) -> dict[str, tuple[float, int, int]]:
    """Backfill the dashboard reports over the period, then time each dashboard read."""
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.reports.models import Report, ReportRow
    from apps.reports.selectors import report_dashboard, report_freshness
    from apps.reports.services.runs import report_backfill

    today = timezone.now().date()
    start = today - dt.timedelta(days=args.days)
    took, backfill = timed(
        lambda: report_backfill(start=start, end=today, keys=list(DASHBOARD_REPORTS))
    )
    if backfill.failures:
        raise BenchError(f"backfill failed: {backfill.failures[:3]}")
    rollups = ReportRow.objects.using("default").count()
    print(f"[{label}] backfilled {len(backfill.runs)} windows of {', '.join(DASHBOARD_REPORTS)} "
          f"in {took / 1000:.1f} s ({rollups:,} rollup rows)")  # fmt: skip

    def read_dashboard(report: Report) -> Any:
        """What the dashboard page reads: the freshness line, then the table."""
        report_freshness(report=report)
        return report_dashboard(report=report, start=start, end=today - dt.timedelta(1))

    result = {}
    for key in DASHBOARD_REPORTS:
        report = Report.objects.get(key=key)
        samples = []
        for _ in range(args.repeat * 3):
            with contextlib.ExitStack() as stack:
                captured = [
                    stack.enter_context(CaptureQueriesContext(connections[alias]))
                    for alias in ("default", "replica_1", "reporting")
                ]
                ms, board = timed(functools.partial(read_dashboard, report))
            samples.append(ms)
        queries = sum(len(c.captured_queries) for c in captured)
        result[key] = (statistics.median(samples), queries, len(board.table))
    return result


def compare_reports(args: argparse.Namespace) -> list[tuple[str, float, float, float, bool]]:
    """Each report's scheduled run for yesterday against the hand-written SQL, interleaved."""
    import MySQLdb
    from django.conf import settings
    from django.utils import timezone

    from apps.reports.definitions import REGISTRY
    from apps.reports.models import Report, ReportRow
    from apps.reports.services.runs import report_run

    reporting = settings.DATABASES["reporting"]
    raw = MySQLdb.connect(
        host=reporting["HOST"], port=int(reporting["PORT"]), user=reporting["USER"],
        password=reporting["PASSWORD"], database=reporting["NAME"], charset="utf8mb4",
    )  # fmt: skip
    raw.autocommit(True)
    yesterday = timezone.now().date() - dt.timedelta(days=1)
    rows = []
    for key, definition in REGISTRY.items():
        report = Report.objects.get(key=key)
        window = definition.window_for(yesterday)
        if window.end > timezone.now().date():
            window = definition.window_for(window.start - dt.timedelta(days=1))
        ours, runs, hand = [], [], []
        run_hand(raw, key, window.start)  # warm every path once, untimed
        report_run(report=report, window=window)
        for _ in range(args.repeat):
            ms, hand_result = timed(functools.partial(run_hand, raw, key, window.start))
            hand.append(ms)
            ms, _ = timed(functools.partial(definition.compute, window))
            ours.append(ms)
            ms, _ = timed(functools.partial(report_run, report=report, window=window))
            runs.append(ms)
        stored = [
            r.values
            for r in ReportRow.objects.using("default")
            .filter(report=report, day__gte=window.start, day__lt=window.end)
            .order_by("day", "dimension")
        ]
        same = report_numbers(key, stored) == hand_numbers(key, hand_result)
        if not same:
            print(f"  MISMATCH {key}: report {report_numbers(key, stored)!r:.300}")
            print(f"                 hand   {hand_numbers(key, hand_result)!r:.300}")
        medians = (statistics.median(ours), statistics.median(hand), statistics.median(runs))
        rows.append((key, *medians, same))
    raw.close()
    return rows


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=0, help="default: photos / 10")
    parser.add_argument("--days", type=int, default=30, help="the data's period")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds per report")
    parser.add_argument("--port-base", type=int, default=25306, help="MariaDB ports base..+4")
    return parser.parse_args()


def run(args: argparse.Namespace) -> int:
    print_environment(args)
    os.environ["PINSTABLR_TOPOLOGY_PORT_BASE"] = str(args.port_base)
    topology = local_topology
    was_running = topology.server_pid("primary", base_dir=BASE_DIR) is not None
    with contextlib.ExitStack() as cleanup:
        print("== setup", flush=True)
        if not was_running:
            cleanup.callback(topology.down, base_dir=BASE_DIR)
        info = topology.up(base_dir=BASE_DIR)
        for server, database in (("primary", APP_DATABASE), ("experiments", EXPERIMENTS_DATABASE)):
            topology.sql(server, f"DROP DATABASE IF EXISTS {database}", base_dir=BASE_DIR)
            topology.sql(
                server, f"CREATE DATABASE {database} CHARACTER SET utf8mb4", base_dir=BASE_DIR
            )
        configure_django(info)
        from django.core.management import call_command

        took, _ = timed(lambda: call_command("migrate_all", verbosity=0))
        print(f"topology up, migrated in {took / 1000:.1f} s (ports {args.port_base}+)")

        print("\n== dashboards from rollups at 1x and 10x the events", flush=True)
        generate(args, 0.1, seed=1, topology=topology)
        small = dashboards(args, "1x")
        generate(args, 0.9, seed=2, topology=topology)
        big = dashboards(args, "10x")
        print(f"{'dashboard (30 days)':<22}{'1x ms':>9}{'10x ms':>9}{'SQL 1x/10x':>12}"
              f"{'rows 1x/10x':>13}")  # fmt: skip
        for key in DASHBOARD_REPORTS:
            (ms1, q1, r1), (ms2, q2, r2) = small[key], big[key]
            print(f"{key:<22}{ms1:>9.1f}{ms2:>9.1f}{f'{q1}/{q2}':>12}{f'{r1}/{r2}':>13}")

        print("\n== scheduled runs (one day; retention one week) against hand-written SQL",
              flush=True)  # fmt: skip
        results = compare_reports(args)
        print("report: the definition's queries on reporting (ORM); hand SQL: the same numbers "
              "by hand on a raw connection;\nrun: the scheduled run (report + storing its rows "
              "and bookkeeping on the primary)")  # fmt: skip
        print(f"{'report':<20}{'report ms':>10}{'hand ms':>9}{'ratio':>7}{'run ms':>9}  same")
        worst = 0.0
        for key, ours, hand, run_ms, same in results:
            ratio = ours / hand if hand else float("inf")
            worst = max(worst, ratio)
            flag = "" if ratio <= TARGET_RATIO else f"  over {TARGET_RATIO}x"
            numbers = "yes" if same else "NO"
            print(f"{key:<20}{ours:>10.1f}{hand:>9.1f}{ratio:>7.2f}{run_ms:>9.1f}  {numbers}{flag}")
        total_ours, total_hand = sum(r[1] for r in results), sum(r[2] for r in results)
        total_runs = sum(r[3] for r in results)
        print(f"{'all reports':<20}{total_ours:>10.1f}{total_hand:>9.1f}"
              f"{total_ours / total_hand:>7.2f}{total_runs:>9.1f}")  # fmt: skip
        ok = all(r[4] for r in results)
        print(
            f"\nsame numbers as the hand-written SQL: {'all' if ok else 'NOT ALL'}; "
            f"report / hand SQL <= {TARGET_RATIO}: "
            f"{'met' if worst <= TARGET_RATIO else 'missed'} (worst {worst:.2f})"
        )
        return 0 if ok else 1


def main() -> int:
    args = parse_args()
    try:
        return run(args)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
