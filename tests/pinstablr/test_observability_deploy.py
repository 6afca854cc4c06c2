"""Deployment of the operations pieces: scrape configs, alerts, annotations, entry point.

promtool (Debian package prometheus) checks the Prometheus files and runs the alerts' unit
tests; the rest compares the files with each other and with what the app really exports.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.cache import cache

from pinstablr.db.replicas import Probe, ReplicaPool, set_pool
from pinstablr.observability.instrument import with_cache_metrics
from tests.deploy.test_compose import COMPOSE_FILE, load, read_env_file, service_environment
from tests.deploy.test_k8s import of_kind, render
from tests.deploy.test_nginx import start_balancer, start_upstream, web_app  # noqa: F401
from tests.deploy.tools import DEPLOY, tool
from tests.services import missing

PROMETHEUS = DEPLOY / "prometheus"
ENTRYPOINT = DEPLOY / "docker" / "entrypoint.sh"
WORKER_METRICS_PORT = "9808"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    found = tool("promtool")
    if found is None:
        missing("promtool is not installed (Debian package prometheus)")
    return subprocess.run(
        [str(found), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )


# --- Prometheus' files ------------------------------------------------------------------


def test_promtool_accepts_the_compose_scrape_config_and_the_alerts():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_fire_when_they_should():
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


@pytest.mark.django_db
def test_every_metric_an_alert_reads_is_one_the_app_exports(client, settings):
    from .observability_app import log_line

    settings.PINSTABLR_METRICS_TOKEN = "alerts-test-token"
    # The cache instrumented as the settings instrument it (the test profile's is plain).
    settings.CACHES = with_cache_metrics(
        {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    )
    cache.get("anything")
    pool = ReplicaPool(["replica_1"], probe=lambda alias: Probe(lag=1.0, position=None),
                       connect=lambda alias: None)  # fmt: skip
    set_pool(pool)
    pool.refresh("replica_1")
    log_line.apply(args=["exported"])
    client.get("/no-such-page")
    text = client.get("/metrics", headers={"Authorization": "Bearer alerts-test-token"}).content
    declared = set(re.findall(r"^# TYPE (\S+) (\S+)$", text.decode(), re.MULTILINE))
    families = {name for name, _ in declared}
    histograms = {name for name, kind in declared if kind == "histogram"}
    for rule in alert_rules():
        for name in set(re.findall(r"\b((?:django|pinstablr)_[a-z0-9_]+)", rule["expr"])):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name in families or base in histograms, f"{rule['alert']} reads {name}"


def test_every_alert_has_a_runbook_section():
    runbook = (Path(__file__).resolve().parents[2] / "docs" / "runbook.md").read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("#")
    }
    for rule in alert_rules():
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert anchor == rule["alert"].lower()
        assert anchor in headings, f"docs/runbook.md has no heading for {rule['alert']}"
        assert rule["labels"]["severity"] in ("page", "ticket")


# --- docker compose ---------------------------------------------------------------------


def test_compose_scrape_jobs_find_the_services_on_their_ports_with_the_token():
    services = load(COMPOSE_FILE.read_text())["services"]
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    app_env = read_env_file(DEPLOY / "docker" / "env" / "app.local.env")
    targets = {}
    for job in config["scrape_configs"]:
        assert job["authorization"]["credentials"] == app_env["PINSTABLR_METRICS_TOKEN"]
        for discovery in job["dns_sd_configs"]:
            for name in discovery["names"]:
                targets[name] = str(discovery["port"])
    assert targets == {"web": "8000", "worker-images": "9808", "worker-reports": "9808"}
    for name in ("worker-images", "worker-reports"):
        environment = service_environment(services[name])
        assert environment["PINSTABLR_WORKER_METRICS_PORT"] == targets[name]
        assert environment["PINSTABLR_METRICS_TOKEN"]


def test_compose_believes_only_its_one_proxy_and_logs_json():
    app_env = read_env_file(DEPLOY / "docker" / "env" / "app.local.env")
    assert app_env["PINSTABLR_NUM_PROXIES"] == "1"
    assert app_env["PINSTABLR_LOG_FORMAT"] == "json"


# --- Kubernetes -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s() -> dict[str, list[dict[str, Any]]]:
    return {
        overlay: [d for d in yaml.safe_load_all(render(overlay)) if d]
        for overlay in ("staging", "production")
    }


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_app_pods_are_annotated_for_scraping_on_the_port_they_serve(k8s, overlay):
    deployments = of_kind(k8s[overlay], "Deployment")
    expected = {"web": "8000", "worker-images": "9808", "worker-reports": "9808"}
    for name, port in expected.items():
        template = deployments[name]["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == port
        assert annotations["prometheus.io/path"] == "/metrics"
        (container,) = template["spec"]["containers"]
        assert [str(p["containerPort"]) for p in container["ports"]] == [port], "one port"
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        if name != "web":
            assert env["PINSTABLR_WORKER_METRICS_PORT"] == port
    assert "prometheus.io/scrape" not in (
        deployments["beat"]["spec"]["template"]["metadata"].get("annotations") or {}
    )


def test_k8s_config_and_secret_carry_the_operations_settings(k8s):
    config = next(
        o for o in of_kind(k8s["staging"], "ConfigMap").values()
        if o["metadata"]["name"].startswith("pinstablr-config-")
    )  # fmt: skip
    assert config["data"]["PINSTABLR_NUM_PROXIES"] == "1"
    assert config["data"]["PINSTABLR_LOG_FORMAT"] == "json"
    secret = next(
        o for o in of_kind(k8s["staging"], "Secret").values()
        if o["metadata"]["name"].startswith("pinstablr-secrets-")
    )  # fmt: skip
    assert "PINSTABLR_METRICS_TOKEN" in secret["data"]
    assert "PINSTABLR_METRICS_TOKEN" not in config["data"]


def test_the_kubernetes_scrape_job_selects_the_annotated_pods_of_the_namespace(k8s):
    (job,) = yaml.safe_load((PROMETHEUS / "kubernetes.yml").read_text())["scrape_configs"]
    (discovery,) = job["kubernetes_sd_configs"]
    assert discovery["role"] == "pod"
    namespace = next(iter(of_kind(k8s["production"], "Namespace")))
    assert discovery["namespaces"]["names"] == [namespace]
    assert job["authorization"]["type"] == "Bearer"
    assert job["authorization"]["credentials_file"]
    sources = {label for rule in job["relabel_configs"] for label in rule.get("source_labels", [])}
    template = of_kind(k8s["production"], "Deployment")["web"]["spec"]["template"]
    for key in template["metadata"]["annotations"]:
        meta = "__meta_kubernetes_pod_annotation_" + re.sub(r"[^a-zA-Z0-9]", "_", key)
        assert meta in sources, key
    assert "__meta_kubernetes_pod_label_app_kubernetes_io_component" in sources


# --- the container entry point ----------------------------------------------------------


@pytest.fixture
def stub_bin(tmp_path: Path) -> Path:
    """gunicorn and celery stand-ins that print their arguments and what the metrics need."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("gunicorn", "celery", "python"):
        stub = folder / name
        stub.write_text(
            '#!/bin/sh\nprintf "%s\\n" "$(basename "$0")" "$@" '
            '"dir=${PROMETHEUS_MULTIPROC_DIR:-}" "quiet=${CELERY_QUIET:-}"\n'
            'ls -A "${PROMETHEUS_MULTIPROC_DIR:-/nonexistent}" 2>/dev/null | sed "s/^/file=/"\n'
        )
        stub.chmod(0o755)
    return folder


def run_role(stub_bin: Path, metrics_dir: Path, role: str) -> list[str]:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), role], capture_output=True, text=True, timeout=10,
        env={"PATH": f"{stub_bin}:/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("role", ["web", "worker-images", "worker-reports"])
def test_each_multi_process_role_starts_with_an_empty_metrics_folder(stub_bin, tmp_path, role):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_12345.db").write_bytes(b"from an earlier run")
    output = run_role(stub_bin, metrics_dir, role)
    assert f"dir={metrics_dir}" in output
    assert not [line for line in output if line.startswith("file=")]
    assert metrics_dir.is_dir()


def test_the_web_role_uses_the_gunicorn_config_module(stub_bin, tmp_path):
    output = run_role(stub_bin, tmp_path / "prometheus", "web")
    assert output[output.index("--config") + 1] == "python:pinstablr.observability.gunicorn"


def test_celery_roles_print_no_banner(stub_bin, tmp_path):
    for role in ("worker-images", "worker-reports", "beat"):
        assert "quiet=1" in run_role(stub_bin, tmp_path / "prometheus", role)


# --- nginx ------------------------------------------------------------------------------


def app_answering_with_its_own_id(method: str, path: str) -> tuple[int, dict[str, str]]:
    status, headers = web_app(method, path)
    return status, {**headers, "X-Request-ID": "the-apps-copy-of-the-id"}


@pytest.mark.parametrize("path", ["/", "/static/css/site.0123456789ab.css", "/media/r/ab/x.webp"])
def test_the_client_gets_one_request_id_header(start_upstream, start_balancer, path):  # noqa: F811
    web = start_upstream(app_answering_with_its_own_id)
    balancer = start_balancer([web])
    response = balancer.request("GET", path)
    (_, _, sent) = web.requests[0]
    assert response.headers.get_all("X-Request-ID") == [sent["x-request-id"]]
