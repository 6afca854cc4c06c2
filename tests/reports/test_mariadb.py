"""The reports and the query console on the real MariaDB topology (primary + GTID replicas).

Uses the suite's topology fixtures (tests/topology.py): the reporting
replica connects with the SELECT-only account, the servers enforce the statement time limit.
"""

from __future__ import annotations

import json

import pytest

from tests.processes import manage

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

# Seconds of work whatever the data: a billion-row join of small tables, and a wait. (Not a
# recursive CTE, which stops at max_recursive_iterations, nor BENCHMARK(), which the server
# interrupts but answers 0 instead of an error.)
SLOW_JOIN = (
    "SELECT COUNT(*) FROM information_schema.COLLATIONS a, information_schema.COLLATIONS b, "
    "information_schema.COLLATIONS c, information_schema.COLLATIONS d"
)
SLOW_WAIT = "SELECT SLEEP(5)"

CONSOLE_SCRIPT = r"""
import json, os
from django.contrib.auth.models import Group, Permission
from django.db import connections
from apps.accounts.models import User
from apps.photos.models import Photo
from apps.reports.readonly import Limits, StatementRefusedByDatabase, run_read_only
from apps.reports.services.console import TARGET_SCHEMAS, console_connection, console_run

analyst, _ = User.objects.get_or_create(username="console-analyst")
ux, _ = User.objects.get_or_create(username="console-ux")
for user, group, codename in ((analyst, "console-marketing", "use_query_console"),
                              (ux, "console-ux", "use_analysis_console")):
    team, _ = Group.objects.get_or_create(name=group)
    team.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(team)
analyst = User.objects.get(pk=analyst.pk)
ux = User.objects.get(pk=ux.pk)
CASES = json.loads(os.environ["SQL_CASES"])
result = {"photos_before": Photo.objects.count(), "console": {}, "engine": {}}
for name, sql in CASES.items():
    outcome = console_run(user=analyst, target="reporting", sql=sql)
    result["console"][name] = {
        "status": outcome.status, "message": outcome.message, "rows": len(outcome.rows),
        "truncated": outcome.truncated, "ms": outcome.duration_ms,
    }
for target, sql in (("reporting", "UPDATE photos_photo SET caption = 'changed'"),
                    ("reporting", "DELETE FROM photos_photo"),
                    ("experiments", "DELETE FROM experiments_variant")):
    try:
        with console_connection(target=target) as connection:
            run_read_only(connection, sql, classification=TARGET_SCHEMAS[target],
                          limits=Limits(timeout_seconds=5, rows=10, bytes=10000, cell_chars=100))
        result["engine"][target + ":" + sql.split()[0]] = "RAN"
    except StatementRefusedByDatabase as error:
        result["engine"][target + ":" + sql.split()[0]] = "REFUSED " + str(error)
ux_run = console_run(user=ux, target="experiments",
                     sql="SELECT COUNT(*) FROM experiments_experiment")
from apps.experiments.models import Experiment
result["experiments"] = [ux_run.status, ux_run.message, ux_run.rows and ux_run.rows[0][0],
                         Experiment.objects.count()]
result["photos_after"] = Photo.objects.count()
result["changed"] = Photo.objects.filter(caption="changed").count()
print("RESULT " + json.dumps(result))
"""

REPORTS_SCRIPT = r"""
import datetime as dt, json
from django.db import connections
from django.utils import timezone
from apps.reports.definitions import REGISTRY
from apps.reports.models import Report, ReportRow
from apps.reports.services.runs import report_run, report_sync_definitions

report_sync_definitions()
day = timezone.now().date() - dt.timedelta(days=1)
out = {}
for report in Report.objects.all():
    run = report_run(report=report, window=REGISTRY[report.key].window_for(day))
    out[report.key] = [run.status, run.row_count]
out["signups"].append(ReportRow.objects.get(report__key="signups", day=day).values["signups"])
start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
with connections["default"].cursor() as cursor:
    cursor.execute(
        "SELECT COUNT(*) FROM accounts_user WHERE date_joined >= %s AND date_joined < %s",
        [start.replace(tzinfo=None), (start + dt.timedelta(days=1)).replace(tzinfo=None)],
    )
    out["primary_signups"] = cursor.fetchone()[0]
out["engagement_values"] = ReportRow.objects.get(report__key="engagement", day=day).values
with connections["default"].cursor() as cursor:
    cursor.execute(
        "SELECT COUNT(*) FROM photos_like WHERE created_at >= %s AND created_at < %s",
        [start.replace(tzinfo=None), (start + dt.timedelta(days=1)).replace(tzinfo=None)],
    )
    out["primary_likes"] = cursor.fetchone()[0]
print("RESULT " + json.dumps(out))
"""


def run_script(env: dict[str, str], script: str, **extra: str) -> dict:
    output = manage({**env, **extra}, "shell", "-c", script)
    return json.loads(output.split("RESULT ", 1)[1])


@pytest.fixture(scope="module")
def console_env(topology, migrated) -> dict[str, str]:
    return {
        **migrated,
        "PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS": "1",
        "PINSTABLR_CONSOLE_ROW_LIMIT": "5",
    }


def test_reports_run_on_the_reporting_replica_and_match_the_primary(topology, console_env):
    manage(console_env, "generate_load_data", "--photos", "300", "--events", "3000", "--days", "5")
    topology.wait_replica("reporting")
    result = run_script(console_env, REPORTS_SCRIPT)
    assert {key: value[0] for key, value in result.items() if isinstance(value, list)} == {
        key: "succeeded" for key in result if isinstance(result[key], list)
    }
    assert len([k for k, v in result.items() if isinstance(v, list)]) == 8
    assert result["signups"][2] == result["primary_signups"]
    assert result["engagement_values"]["likes"] == result["primary_likes"] > 0


def test_the_console_on_mariadb_stops_slow_queries_and_refuses_writes(topology, console_env):
    cases = {
        "slow": SLOW_JOIN,
        "slow_wait": SLOW_WAIT,
        "update": "UPDATE photos_photo SET caption = 'changed'",
        "delete": "DELETE FROM photos_photo",
        "drop": "DROP TABLE photos_photo",
        "multi": "SELECT 1; DELETE FROM photos_photo",
        "hidden": "SELECT password FROM accounts_user",
        "many": "SELECT id FROM photos_photo",
        "syntax": "SELECT FROM photos_photo WHERE",
    }
    manage(console_env, "generate_load_data", "--photos", "20", "--events", "50", "--days", "2")
    topology.wait_replica("reporting")
    result = run_script(console_env, CONSOLE_SCRIPT, SQL_CASES=json.dumps(cases))
    console = result["console"]
    for slow in (console["slow"], console["slow_wait"]):
        assert slow["status"] == "timeout", console
        assert "Stopped by the database after 1 seconds" in slow["message"]
        assert 900 <= slow["ms"] < 10_000
    for name, verb in (("update", "UPDATE"), ("delete", "DELETE"), ("drop", "DROP")):
        assert console[name]["status"] == "refused"
        assert f"{verb} statements are refused" in console[name]["message"]
    assert console["multi"]["status"] == "refused"
    assert "Only one statement" in console["multi"]["message"]
    assert console["hidden"]["status"] == "refused"
    assert console["many"]["status"] == "truncated"
    assert console["many"]["rows"] == 5
    assert console["syntax"]["status"] == "error"
    assert "SQL syntax" in console["syntax"]["message"]
    # Past the text check, the servers themselves refuse: read-only transaction, SELECT-only
    # accounts (on the replica and on the experiments server), read-only replica.
    for key, outcome in result["engine"].items():
        assert outcome.startswith("REFUSED"), (key, outcome)
    assert result["experiments"][0] == "ok", result["experiments"]
    assert result["experiments"][2] == result["experiments"][3]
    assert result["photos_after"] == result["photos_before"]
    assert result["changed"] == 0
