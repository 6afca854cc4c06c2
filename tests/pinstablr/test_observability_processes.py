"""Real processes: gunicorn workers add up their metrics; every line on stdout is JSON.

gunicorn runs as the image's web role runs it (the config module, several workers, a
metrics folder), and the production profile logs JSON out of the box.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.processes import REPO, app_environment, stop, wait_for_http
from tests.services import free_port

from .test_observability_metrics import sample
from .test_production_settings import COMPLETE_ENVIRONMENT

TOKEN = "gunicorn-metrics-test-token"
REQUESTS = 40


def parsed_lines(path: Path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # fails on any line that is not JSON


@pytest.mark.slow
def test_gunicorn_workers_add_up_their_metrics_and_log_json(tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    env = app_environment(
        tmp_path,
        PINSTABLR_LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        PINSTABLR_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    port = free_port()
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "pinstablr.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--config", "python:pinstablr.observability.gunicorn",
         "--access-logfile", "-", "--access-logformat", "%(r)s rid=%({x-request-id}i)s",
         # Workers are replaced all along, as --max-requests does in production.
         "--max-requests", "10"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/healthz", server)
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(
                pool.map(lambda _: requests.get(url + "/healthz", timeout=10).status_code,
                         range(REQUESTS))
            )  # fmt: skip
        assert statuses == [200] * REQUESTS
        scrapes = [
            requests.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
            for _ in range(4)
        ]
    finally:
        stop(server, signal.SIGTERM)

    # Exited workers' counts were folded into the archive; at most the last workers remain.
    files = {path.name for path in metrics_dir.glob("counter_*.db")}
    assert "counter_archive.db" in files
    assert len(files) <= 3, files
    for scrape in scrapes:
        assert scrape.status_code == 200
        counted = sample(scrape.text, "django_http_requests_total_by_method_total", method="GET")
        # Whichever worker answers, the scrape adds up every worker's count, gone ones too.
        assert counted is not None
        assert counted >= REQUESTS + 1

    lines = parsed_lines(log)
    loggers = {line["logger"] for line in lines}
    assert "gunicorn.error" in loggers, "gunicorn's own lines are JSON too"
    assert "gunicorn.access" not in loggers
    healthz = [line for line in lines if line.get("path") == "/healthz"]
    assert len(healthz) >= REQUESTS
    assert all(line["logger"] == "pinstablr.request" for line in healthz)
    assert len({line["request_id"] for line in healthz}) == len(healthz), "one id each"
    assert all(line["status"] == 200 and line["method"] == "GET" for line in healthz)


def test_the_production_profile_logs_one_json_object_per_line():
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.pop("PINSTABLR_LOG_FORMAT", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c",
         "import logging; logging.getLogger('pinstablr.example').warning('hello %s', 'ops')"],
        cwd=REPO, env={**clean, **COMPLETE_ENVIRONMENT}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    (line,) = [json.loads(x) for x in result.stdout.splitlines() if x.strip()]
    assert line["logger"] == "pinstablr.example"
    assert line["message"] == "hello ops"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "-"


def test_production_serves_metrics_over_plain_http_inside_the_cluster():
    """Prometheus scrapes pods at their address without TLS: no redirect to HTTPS for it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    program = (
        "from django.test import Client\n"
        "client = Client(SERVER_NAME='pinstablr.example')\n"
        "print('metrics', client.get('/metrics', HTTP_AUTHORIZATION='Bearer t0ken-for-test')"
        ".status_code)\n"
        "print('home', client.get('/').status_code)\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", program],
        cwd=REPO, env={**clean, **COMPLETE_ENVIRONMENT, "PINSTABLR_METRICS_TOKEN": "t0ken-for-test",
                       "PINSTABLR_LOG_FORMAT": "text", "LOG_LEVEL": "ERROR"},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "metrics 200" in result.stdout
    assert "home 301" in result.stdout
