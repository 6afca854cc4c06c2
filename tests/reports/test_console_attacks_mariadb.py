"""The attack corpus against the real MariaDB reporting, experiments-read and experiments
servers, through the console page of a running web server, as a marketing analyst and a UX
researcher would send it: no withheld value in any response, nothing written, no 5xx.

The console accounts and their schemas of views were built by ``migrate_all`` from the
classification (``tests/topology.py`` passes it the administrator URLs); the last test widens
a grant by hand and checks that ``manage.py topology`` refuses it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.processes import REPO, manage, start_gunicorn, stop
from tests.reports.console_corpus import (
    EXPERIMENTS_CORPUS,
    MAIN_CORPUS,
    ORACLES,
    leaked,
    render,
    results,
    wrong_guesses,
)
from tests.topology import APP_DATABASE, EXPERIMENTS_DATABASE

pytestmark = [pytest.mark.mysql, pytest.mark.slow]

PASSWORD = "attack-pass-123"
SETUP = rf"""
import json
from django.contrib.auth.models import Group, Permission
from apps.accounts.models import User
from tests.factories import PhotoFactory
from tests.reports.console_corpus import plant_secrets
planted = plant_secrets()
PhotoFactory.create_batch(30)
for name, codename in (("attacker-marketing", "use_query_console"),
                       ("attacker-ux", "use_analysis_console")):
    user = User.objects.create_user(username=name, password={PASSWORD!r})
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(Permission.objects.get(codename=codename))
    user.groups.add(group)
print("RESULT " + json.dumps(planted))
"""


@pytest.fixture(scope="module")
def planted(topology, migrated) -> dict:
    output = manage(migrated, "shell", "-c", SETUP)
    for server in ("reporting", "experiments_read"):
        topology.wait_replica(server)
    return json.loads(output.split("RESULT ", 1)[1])


@pytest.fixture(scope="module")
def site(migrated, planted) -> Iterator[str]:
    server, url = start_gunicorn(
        {
            **migrated,
            "PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS": "2",
            "PINSTABLR_CONSOLE_RUNS_PER_MINUTE": "10000",
        }
    )
    yield url
    stop(server)


def signed_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(url + "/accounts/login/", timeout=15)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        url + "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": url + "/accounts/login/"}, timeout=15, allow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 302, answer.text[-500:]
    return session


def run(session: requests.Session, url: str, target: str, sql: str) -> requests.Response:
    page = session.get(url + "/reports/console/", timeout=15)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        url + "/reports/console/",
        data={"target": target, "sql": sql, "action": "run", "csrfmiddlewaretoken": token},
        headers={"Referer": url + "/reports/console/"}, timeout=60,
    )  # fmt: skip


def checksums(topology, server: str, database: str) -> dict[str, str]:
    """Every table's checksum but the console's log and the sessions (signing in writes)."""
    tables = [
        name
        for (name,) in topology.sql(
            server,
            f"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{database}' "
            "AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT IN "
            "('reports_queryrun', 'django_session')",
        )
    ]
    listed = ", ".join(f"`{database}`.`{name}`" for name in tables)
    return {row[0]: row[1] for row in topology.sql(server, f"CHECKSUM TABLE {listed}")}


@pytest.mark.parametrize(
    ("user", "target", "corpus", "base"),
    [
        ("attacker-marketing", "reporting", MAIN_CORPUS, APP_DATABASE),
        ("attacker-ux", "experiments_read", MAIN_CORPUS, APP_DATABASE),
        ("attacker-ux", "experiments", EXPERIMENTS_CORPUS, EXPERIMENTS_DATABASE),
    ],
)
def test_no_attack_reads_a_withheld_value_or_writes_on_the_real_servers(
    topology, planted, site, user, target, corpus, base
):
    session = signed_in(site, user)
    server = "experiments" if target == "experiments" else "primary"
    database = EXPERIMENTS_DATABASE if target == "experiments" else APP_DATABASE
    before = checksums(topology, server, database)
    statuses = {}
    for name, sql in corpus:
        response = run(session, site, target, render(sql, base=base, planted=planted))
        assert response.status_code < 500, (name, response.status_code)
        assert not leaked(response.text, planted), (name, leaked(response.text, planted))
        statuses[name] = response.status_code
        if name in ORACLES:
            wrong = wrong_guesses(planted)
            again = run(session, site, target, render(sql, base=base, planted=wrong))
            assert results(again.text) == results(response.text), (name, "an oracle")
    assert checksums(topology, server, database) == before
    if target != "experiments":  # the replica holds what the primary holds: nothing of its own
        topology.wait_replica(target)
        assert checksums(topology, target, database) == before
    # The console ran what it should have: a refusal is a 200 page with its reason, a form
    # error (text over the size limit) a 400.
    assert set(statuses.values()) <= {200, 400}


def test_the_console_shows_what_it_may_on_mariadb(planted, site):
    session = signed_in(site, "attacker-marketing")
    body = run(session, site, "reporting", "SELECT * FROM accounts_user ORDER BY id").text
    assert '<th scope="col">date_joined</th>' in body
    assert "password" not in results(body)
    wide = run(session, site, "reporting", MAIN_CORPUS[-2][1]).text  # wide_rows
    assert "Showing" in results(wide)
    assert len(wide) < 3_000_000


def test_topology_refuses_a_console_account_with_more_than_its_grants(topology, migrated, site):
    manage(migrated, "console_schema", "check")
    grant = f"GRANT SELECT ON `{APP_DATABASE}`.`django_session` TO 'pinstablr_console'@'%'"
    topology.sql("primary", grant)
    topology.wait_replica("reporting")
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "topology"], cwd=REPO, env=migrated,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 1
        assert f"SELECT on the table {APP_DATABASE}.django_session" in result.stderr
        assert "console reporting" in result.stderr
    finally:
        manage({**migrated, **topology.admin_env}, "console_schema", "apply")
    topology.wait_replica("reporting")
    manage(migrated, "console_schema", "check")
