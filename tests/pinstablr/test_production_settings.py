"""The production profile refuses to start without its secrets, and is deploy-clean with them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinstablr.settings.required import REQUIRED_VARIABLES, S3_VARIABLES

REPO = Path(__file__).resolve().parents[2]

COMPLETE_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "pinstablr.settings.production",
    "DJANGO_SECRET_KEY": "p" * 20 + "Q7#x!rT9$wZ2@kL5^mN8&bV4*cX1(zA6)sD3_fG0-hJ",
    "DJANGO_ALLOWED_HOSTS": "pinstablr.example,www.pinstablr.example",
    "DATABASE_URL": "mysql://app:pw@primary.db:3306/pinstablr",
    "DATABASE_REPLICA_URLS": "mysql://ro:pw@replica-1.db:3306/pinstablr,mysql://ro:pw@replica-2.db:3306/pinstablr",
    "DATABASE_REPORTING_URL": "mysql://ro:pw@reporting.db:3306/pinstablr",
    "DATABASE_EXPERIMENTS_URL": "mysql://ux:pw@experiments.db:3306/experiments",
    "DATABASE_EXPERIMENTS_READ_URL": "mysql://ro:pw@experiments-read.db:3306/pinstablr",
    "REDIS_URL": "redis://redis:6379/0",
    "CELERY_BROKER_URL": "amqp://pinstablr:pw@rabbitmq:5672//",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("variable", REQUIRED_VARIABLES)
def test_production_names_a_missing_variable_and_exits(variable):
    env = {k: v for k, v in COMPLETE_ENVIRONMENT.items() if k != variable}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "The production settings need these environment variables" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_production_names_every_missing_variable_at_once():
    result = manage("check", env={"DJANGO_SETTINGS_MODULE": "pinstablr.settings.production"})
    assert result.returncode != 0
    last_line = result.stderr.splitlines()[-1]
    for variable in REQUIRED_VARIABLES:
        assert variable in last_line


def test_s3_storage_requires_its_credentials():
    env = {**COMPLETE_ENVIRONMENT, "PINSTABLR_MEDIA_STORAGE": "s3"}
    result = manage("check", env=env)
    assert result.returncode != 0
    for variable in S3_VARIABLES:
        assert variable in result.stderr.splitlines()[-1]


def test_production_with_everything_set_is_deploy_clean():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=COMPLETE_ENVIRONMENT)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_reads_every_replica_url():
    result = manage(
        "shell", "-c",
        "from django.conf import settings; print(sorted(settings.DATABASES))",
        env=COMPLETE_ENVIRONMENT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "'replica_1', 'replica_2'" in result.stdout
