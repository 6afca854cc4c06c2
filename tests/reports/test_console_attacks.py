"""The attack corpus on the embedded SQLite console, through the console page as a person
would use it: nothing withheld comes back, nothing is written, no server error.

The same corpus runs against the real MariaDB replicas in test_console_attacks_mariadb.py.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse

from apps.reports.models import QueryRun
from tests.factories import PhotoFactory
from tests.reports.console_corpus import (
    EXPERIMENTS_CORPUS,
    MAIN_CORPUS,
    ORACLES,
    leaked,
    plant_secrets,
    render,
    results,
    wrong_guesses,
)

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def row_counts() -> dict[str, int]:
    """Rows of every table but the console's own log (each run adds one)."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model is not QueryRun
    }


@pytest.fixture
def planted(settings):
    settings.PINSTABLR_CONSOLE_RUNS_PER_MINUTE = 10_000
    settings.PINSTABLR_CONSOLE_STATEMENT_TIMEOUT_SECONDS = 2
    PhotoFactory.create_batch(30)
    return plant_secrets()


@pytest.mark.parametrize(
    ("target", "corpus", "base"),
    [
        ("reporting", MAIN_CORPUS, "main"),
        ("experiments_read", MAIN_CORPUS, "main"),
        ("experiments", EXPERIMENTS_CORPUS, "main"),
    ],
)
def test_no_attack_reads_a_withheld_value_or_writes(client, team_member, planted, target, corpus,
                                                    base):  # fmt: skip
    perms = ("reports.use_query_console", "experiments.use_analysis_console")
    attacker = team_member("marketing", perms=perms)
    client.force_login(attacker)
    before = row_counts()
    for name, sql in corpus:
        response = client.post(
            reverse("reports:console"),
            {"target": target, "sql": render(sql, base=base, planted=planted), "action": "run"},
        )
        body = response.content.decode()
        assert response.status_code < 500, (name, response.status_code)
        assert not leaked(body, planted), (name, leaked(body, planted))
        if name in ORACLES:  # the answer to a right guess must be the answer to a wrong one
            wrong = wrong_guesses(planted)
            response = client.post(
                reverse("reports:console"),
                {"target": target, "sql": render(sql, base=base, planted=wrong), "action": "run"},
            )
            assert results(response.content.decode()) == results(body), (name, "an oracle")
    assert row_counts() == before
    # Every run is logged, refused or not (the oracles ran twice).
    runs = QueryRun.objects.filter(user=attacker, target=target)
    assert runs.count() == len(corpus) + len([name for name, _ in corpus if name in ORACLES])
    assert set(runs.values_list("status", flat=True)) <= {"ok", "truncated", "refused",
                                                          "timeout", "error"}  # fmt: skip


def test_the_corpus_is_large_enough_to_mean_something():
    assert len(MAIN_CORPUS) >= 40
    assert len({name for name, _ in MAIN_CORPUS + EXPERIMENTS_CORPUS}) == len(
        MAIN_CORPUS + EXPERIMENTS_CORPUS
    )
