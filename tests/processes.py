"""Run Pinstablr as real processes for end-to-end tests: manage.py, gunicorn, Celery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.services import free_port

REPO = Path(__file__).resolve().parents[1]
APP_PREFIXES = ("DJANGO_", "DATABASE_", "CELERY_", "REDIS_", "PINSTABLR_", "AWS_")


def app_environment(var_dir: Path, **overrides: str) -> dict[str, str]:
    """This machine's environment without any app setting, plus the given ones."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(APP_PREFIXES)}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "pinstablr.settings.dev",
        "DJANGO_DEBUG": "0",
        "PINSTABLR_VAR_DIR": str(var_dir),
        # Tests poll far faster than a person clicks.
        "PINSTABLR_THROTTLE_ANON": "100000/minute",
        "PINSTABLR_THROTTLE_USER": "100000/minute",
        **overrides,
    }


def manage(env: dict[str, str], *args: str) -> str:
    """Run a management command to completion; its standard output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def create_token(env: dict[str, str], username: str) -> str:
    """An API token for ``username``, creating the user if needed."""
    output = manage(
        env, "shell", "-c",
        "from apps.accounts.models import User\n"
        "from apps.accounts.services import api_token_create\n"
        f"user, _ = User.objects.get_or_create(username={username!r})\n"
        "print('TOKEN', api_token_create(user=user, name='tests')[1])\n",
    )  # fmt: skip
    return output.split("TOKEN ")[1].split()[0]


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=5)
            return
        except requests.ConnectionError:
            assert process.poll() is None, f"the server exited ({process.returncode})"
            assert time.monotonic() < deadline, f"{url} did not answer in {timeout}s"
            time.sleep(0.2)


def start_gunicorn(env: dict[str, str], workers: int = 2) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn on a free loopback port; ``(process, base url)`` once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "pinstablr.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "--log-level", "warning"],
        cwd=REPO, env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url + "/healthz", process)
    return process, url


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the process's whole group (its workers too) and wait for it."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=30)
