"""The query console on the embedded SQLite topology: one SELECT, read-only, limited, logged.

The same rules on the real MariaDB servers are in test_mariadb.py.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.urls import reverse

from apps.photos.models import Photo
from apps.reports.models import QueryRun
from apps.reports.readonly import Limits, StatementRefusedByDatabase, run_read_only
from apps.reports.services.console import QueryRefused, console_connection, console_run, query_check
from pinstablr.db.classification import EXPERIMENTS, MAIN
from tests.factories import PhotoFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

LIMITS = Limits(timeout_seconds=5, rows=10, bytes=100_000, cell_chars=1000)
SLOW_SQL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
    "SELECT COUNT(*) FROM n"
)


@pytest.fixture
def analyst(team_member):
    return team_member("marketing")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE photos_photo SET caption = 'x'", "UPDATE statements are refused"),
        ("DELETE FROM photos_photo", "DELETE statements are refused"),
        ("DROP TABLE photos_photo", "DROP statements are refused"),
        ("INSERT INTO photos_tag (name) VALUES ('x')", "INSERT statements are refused"),
        ("SELECT 1; DELETE FROM photos_photo", "Only one statement can run at a time"),
        ("SELECT 1;\nDROP TABLE photos_photo;", "this text has 2"),
        ("WITH x AS (SELECT 1) DELETE FROM photos_photo", "DELETE statements are refused"),
        ("SELECT * INTO OUTFILE '/tmp/x' FROM photos_photo", "INTO writes a file"),
        ("SELECT * FROM photos_photo FOR UPDATE", "FOR UPDATE takes row locks"),
        ("SELECT digest FROM accounts_apitoken", "accounts_apitoken holds credentials"),
        ("SELECT * FROM `django_session`", "django_session holds credentials"),
        ("SELECT sql FROM reports_savedquery", "reports_savedquery holds internal data"),
        ("   ", "Write a SELECT query"),
    ],
)
def test_anything_but_one_select_is_refused_clearly_and_changes_nothing(analyst, sql, message):
    PhotoFactory.create_batch(2)
    outcome = console_run(user=analyst, target="reporting", sql=sql)
    assert outcome.status == "refused"
    assert message in outcome.message
    assert Photo.objects.count() == 2
    assert set(Photo.objects.values_list("caption", flat=True)) != {"x"}
    run = QueryRun.objects.get()
    assert (run.user, run.status, run.sql, run.row_count) == (analyst, "refused", sql, 0)
    assert message in run.error


@pytest.mark.parametrize(
    "sql",
    [
        "select count(*) from photos_photo",
        "/* photos */ SELECT 1;",
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
        "(SELECT 1) UNION (SELECT 2)",
        "SELECT 'please update; drop' AS words -- into",
    ],
)
def test_selects_in_their_usual_shapes_pass_the_check(sql):
    assert query_check(sql=sql)


def test_a_select_returns_its_columns_and_rows_and_is_logged(analyst):
    PhotoFactory.create_batch(3)
    outcome = console_run(
        user=analyst, target="reporting",
        sql="SELECT status, COUNT(*) AS photos FROM photos_photo GROUP BY status",
    )  # fmt: skip
    assert outcome.ok
    assert not outcome.truncated
    assert outcome.columns == ["status", "photos"]
    assert outcome.rows == [("ready", 3)]
    run = QueryRun.objects.get()
    assert (run.status, run.row_count, run.target) == ("ok", 1, "reporting")


def test_more_rows_than_the_limit_are_cut_and_flagged(analyst, settings):
    settings.PINSTABLR_CONSOLE_ROW_LIMIT = 5
    PhotoFactory.create_batch(8)
    outcome = console_run(user=analyst, target="reporting", sql="SELECT id FROM photos_photo")
    assert outcome.truncated
    assert outcome.status == "truncated"
    assert len(outcome.rows) == 5
    exact = console_run(user=analyst, target="reporting", sql="SELECT id FROM photos_photo LIMIT 5")
    assert not exact.truncated
    assert len(exact.rows) == 5


def test_a_slow_query_is_stopped_at_the_time_limit(analyst, settings):
    settings.PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS = 0.3
    outcome = console_run(user=analyst, target="reporting", sql=SLOW_SQL)
    assert outcome.status == "timeout"
    assert "Stopped by the database after 0.3 seconds" in outcome.message
    assert 250 <= outcome.duration_ms < 5000
    assert QueryRun.objects.get().status == "timeout"
    # The connection is usable afterwards, without the limit.
    assert console_run(user=analyst, target="reporting", sql="SELECT 1").rows == [(1,)]


def test_the_engine_refuses_writes_and_unclassified_reads_even_past_the_text_check():
    PhotoFactory()
    with console_connection(target="reporting") as connection:
        for sql in (
            "DELETE FROM photos_photo",
            "UPDATE photos_photo SET caption = 'x'",
            "SELECT password FROM main.accounts_user",
            "SELECT id FROM main.accounts_user",
            "SELECT session_key FROM django_session",
        ):
            with pytest.raises(StatementRefusedByDatabase):
                run_read_only(connection, sql, limits=LIMITS, classification=MAIN)
        # Tables are read through the console's views: reportable columns only.
        result = run_read_only(
            connection, "SELECT * FROM accounts_user", limits=LIMITS, classification=MAIN
        )
        assert result.columns == ["id", "date_joined", "last_login", "is_active"]
    assert Photo.objects.get().caption != "x"
    # The connection is back to normal for the application: no views left, writes allowed.
    assert Photo.objects.using("reporting").count() == 1
    with connections["reporting"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sqlite_temp_master")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT password FROM accounts_user")


def test_a_refused_column_is_explained_with_what_can_be_read(analyst):
    outcome = console_run(user=analyst, target="reporting", sql="SELECT email FROM accounts_user")
    assert outcome.status == "refused"
    assert "accounts_user.email holds personal data" in outcome.message
    assert "Columns of accounts_user you can query: id, date_joined" in outcome.message
    hash_ = console_run(user=analyst, target="reporting", sql="SELECT password FROM accounts_user")
    assert "accounts_user.password holds credentials" in hash_.message


def test_errors_from_the_database_are_shown_and_logged(analyst):
    outcome = console_run(user=analyst, target="reporting", sql="SELECT nope FROM photos_photo")
    assert outcome.status == "error"
    assert "no such column: nope" in outcome.message
    assert QueryRun.objects.get().error == outcome.message


def test_default_is_never_a_target_and_the_console_needs_its_permission(analyst):
    with pytest.raises(PermissionDenied), console_connection(target="default"):
        pass
    with pytest.raises(PermissionDenied):
        console_run(user=UserFactory(), target="reporting", sql="SELECT 1")
    with pytest.raises(PermissionDenied):
        console_run(user=analyst, target="experiments_read", sql="SELECT 1")
    assert not QueryRun.objects.exists()


def test_ux_reads_the_experiments_database_read_only(team_member):
    ux = team_member("ux", perms=("experiments.use_analysis_console",))
    outcome = console_run(
        user=ux, target="experiments", sql="SELECT COUNT(*) FROM experiments_experiment"
    )
    assert outcome.ok, outcome.message
    for sql in (
        "SELECT salt FROM experiments_experiment",
        "SELECT name FROM sqlite_master",
        "SELECT * FROM django_migrations",
        "SELECT note FROM experiments_forcedvariant",
    ):
        assert console_run(user=ux, target="experiments", sql=sql).status == "refused", sql
    with (
        console_connection(target="experiments") as connection,
        pytest.raises(StatementRefusedByDatabase),
    ):
        run_read_only(
            connection, "DELETE FROM experiments_variant", limits=LIMITS,
            classification=EXPERIMENTS,
        )  # fmt: skip
    assert console_run(user=ux, target="experiments_read", sql="SELECT 1").ok


def test_query_check_refuses_and_explains():
    with pytest.raises(QueryRefused, match="one statement"):
        query_check(sql="SELECT 1; SELECT 2")


def test_a_result_is_cut_at_the_byte_limit_and_long_values_at_the_cell_limit(analyst, settings):
    settings.PINSTABLR_CONSOLE_MAX_BYTES = 10_000
    settings.PINSTABLR_CONSOLE_MAX_CELL_CHARS = 100
    PhotoFactory.create_batch(5)
    wide = (
        "SELECT a.id, printf('%.2000c', 'x') AS wide "
        "FROM photos_photo a, photos_photo b, photos_photo c"
    )
    outcome = console_run(user=analyst, target="reporting", sql=wide)
    assert outcome.status == "truncated"
    assert outcome.cut_by_bytes
    # 100 characters kept of each 2,000: about 100 of the 125 rows fit in 10,000 bytes.
    assert 80 <= len(outcome.rows) < 125
    assert all(len(row[1]) == 101 and row[1].endswith("…") for row in outcome.rows)
    assert outcome.cells_cut == len(outcome.rows)


def test_the_page_says_how_much_it_shows_and_why(client, analyst, settings):
    settings.PINSTABLR_CONSOLE_MAX_BYTES = 1_000
    PhotoFactory.create_batch(40)
    client.force_login(analyst)
    response = client.post(
        reverse("reports:console"),
        {"target": "reporting", "action": "run",
         "sql": "SELECT printf('%.100c', 'y') FROM photos_photo"},
    )  # fmt: skip
    assert response.status_code == 200
    assert (
        "of more rows</strong>: the console shows at most 1000\xa0bytes"
        in response.content.decode()
    )


def test_a_refused_or_unreadable_query_is_a_400_and_still_logged(client, analyst):
    client.force_login(analyst)
    for sql in ("DELETE FROM photos_photo", "SELECT nope FROM photos_photo", "SELECT (((("):
        response = client.post(
            reverse("reports:console"), {"target": "reporting", "action": "run", "sql": sql}
        )
        assert response.status_code == 400, sql
        assert 'role="alert"' in response.content.decode()
    assert QueryRun.objects.filter(user=analyst).count() == 3


def test_a_text_the_parser_cannot_read_is_refused_clearly(analyst, monkeypatch):
    def fail(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("apps.reports.services.console.sqlparse.parse", fail)
    outcome = console_run(user=analyst, target="reporting", sql="SELECT 1")
    assert outcome.status == "refused"
    assert "could not be read as SQL (RecursionError)" in outcome.message
    assert QueryRun.objects.get().status == "refused"


def test_runs_per_minute_are_limited_per_person(analyst, team_member, settings):
    settings.PINSTABLR_CONSOLE_RUNS_PER_MINUTE = 3
    assert [console_run(user=analyst, target="reporting", sql="SELECT 1").status
            for _ in range(4)] == ["ok", "ok", "ok", "refused"]  # fmt: skip
    assert "You have run 3 queries in the last minute" in QueryRun.objects.first().error
    other = team_member("marketing")
    assert console_run(user=other, target="reporting", sql="SELECT 1").ok


def test_one_running_query_per_person(analyst, team_member, settings):
    settings.PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS = 2
    started, release = threading.Event(), threading.Event()
    real = run_read_only

    def slow(*args, **kwargs):
        started.set()
        release.wait(5)
        return real(*args, **kwargs)

    outcomes = []
    with mock.patch("apps.reports.services.console.run_read_only", slow):
        first = threading.Thread(
            target=lambda: outcomes.append(
                console_run(user=analyst, target="reporting", sql="SELECT 1")
            )
        )
        first.start()
        assert started.wait(5)
        second = console_run(user=analyst, target="reporting", sql="SELECT 2")
        release.set()
        first.join(10)
    assert second.status == "refused"
    assert "You already have a query running" in second.message
    assert outcomes[0].ok
    # Once it has finished, the next one runs.
    assert console_run(user=analyst, target="reporting", sql="SELECT 3").ok
