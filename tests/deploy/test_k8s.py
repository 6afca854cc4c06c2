"""deploy/k8s: each overlay rendered by kustomize and validated against Kubernetes' schemas.

Rendering uses kustomize as built into kubectl (``kubectl kustomize``), and validation the
PyPI package kubernetes-validate in strict mode (unknown fields are errors) against the
oldest and the newest Kubernetes minor this repository claims. Then the properties the
schemas cannot see: probes, limits, security context, autoscaling, names that resolve, and
the settings contract.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from pinstablr.settings.required import REQUIRED_VARIABLES, S3_VARIABLES
from tests.deploy.tools import DEPLOY, tool
from tests.services import missing

K8S = DEPLOY / "k8s"
OVERLAYS = ("staging", "production")
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")
FIXTURES = Path(__file__).parent / "fixtures"
APP_DEPLOYMENTS = ("web", "worker-images", "worker-reports", "beat")
APP_UID = 10001
CONFIG, SECRETS = "pinstablr-config", "pinstablr-secrets"

Manifest = dict[str, Any]


def kubectl() -> str:
    found = tool("kubectl")
    if found is None:
        missing("kubectl (with its built-in kustomize) is not installed")
    assert found is not None  # missing() skipped or failed the test
    return found


def render(overlay: str) -> str:
    result = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return {overlay: render(overlay) for overlay in OVERLAYS}


@pytest.fixture(scope="module")
def manifests(rendered) -> dict[str, list[Manifest]]:
    return {name: [d for d in yaml.safe_load_all(text) if d] for name, text in rendered.items()}


def of_kind(objects: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_templates(objects: list[Manifest]) -> dict[str, Manifest]:
    """Pod specs of every Deployment and Job, keyed ``Kind/name``."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]
        for o in objects
        if o["kind"] in ("Deployment", "Job")
    }


def generated(objects: list[Manifest], kind: str, prefix: str) -> Manifest | None:
    """A generated ConfigMap or Secret (its name carries a content hash)."""
    matches = [o for name, o in of_kind(objects, kind).items() if name.startswith(prefix + "-")]
    assert len(matches) <= 1
    return matches[0] if matches else None


# --- schema validation ------------------------------------------------------------------


def validate(path: Path, version: str) -> subprocess.CompletedProcess[str]:
    validator = tool("kubernetes-validate")
    if validator is None:
        missing("kubernetes-validate (PyPI) is not installed")
    return subprocess.run(
        [str(validator), "--strict", "--kubernetes-version", version, str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlay_is_valid_kubernetes(rendered, manifests, overlay, version, tmp_path):
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(rendered[overlay])
    result = validate(path, version)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.findall(r"passed for resource", result.stdout)
    assert len(passed) == len(manifests[overlay])


@pytest.mark.parametrize(
    ("fixture", "complaint"),
    [
        ("deployment-misspelled-field.yaml", "'replica' was unexpected"),
        ("deployment-wrong-type.yaml", "is not of type 'integer'"),
    ],
)
def test_the_validator_rejects_a_broken_manifest(fixture, complaint):
    result = validate(FIXTURES / fixture, KUBERNETES_VERSIONS[0])
    assert result.returncode != 0
    assert complaint in result.stdout + result.stderr


# --- workloads --------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_app_deployments_and_migrate_job(manifests, overlay):
    objects = manifests[overlay]
    deployments = of_kind(objects, "Deployment")
    assert set(APP_DEPLOYMENTS) <= set(deployments)
    roles = {
        name: deployments[name]["spec"]["template"]["spec"]["containers"][0]["args"]
        for name in APP_DEPLOYMENTS
    }
    assert roles == {name: [name] for name in APP_DEPLOYMENTS}
    beat = deployments["beat"]["spec"]
    assert beat["replicas"] == 1
    assert beat["strategy"] == {"type": "Recreate"}
    job = of_kind(objects, "Job")["migrate"]["spec"]["template"]["spec"]
    assert job["containers"][0]["args"] == ["migrate"]
    assert job["restartPolicy"] == "Never"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_limits_and_a_locked_down_context(manifests, overlay):
    for name, template in pod_templates(manifests[overlay]).items():
        spec = template["spec"]
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, name
        assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"] + spec.get("initContainers", []):
            where = f"{name}/{container['name']}"
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) >= {"cpu", "memory"}, where
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            for mount in container.get("volumeMounts", []):
                assert "emptyDir" in volumes[mount["name"]], where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_app_pods_run_as_the_images_user_with_an_emptydir_tmp(manifests, overlay):
    for name, template in pod_templates(manifests[overlay]).items():
        if template["metadata"]["labels"].get("app.kubernetes.io/name") != "pinstablr":
            continue
        spec = template["spec"]
        assert spec["securityContext"]["runAsUser"] == APP_UID, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        (container,) = spec["containers"]
        tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert len(tmp) == 1, name
        assert "emptyDir" in volumes[tmp[0]["name"]], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_carry_a_version_tag(manifests, overlay):
    for name, template in pod_templates(manifests[overlay]).items():
        for container in template["spec"]["containers"]:
            image = container["image"]
            repository, _, tag = image.rpartition(":")
            assert repository, f"{name}: {image} has no tag"
            assert "/" not in tag, f"{name}: {image} has no tag"
            assert tag != "latest", f"{name}: {image}"
            if container["name"] in APP_DEPLOYMENTS or container["name"] == "migrate":
                assert re.fullmatch(r"\d+\.\d+\.\d+([-.][0-9A-Za-z.]+)?", tag), image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes(manifests, overlay):
    web = of_kind(manifests[overlay], "Deployment")["web"]["spec"]["template"]["spec"]
    (container,) = web["containers"]
    probes = {kind: container[kind]["httpGet"] for kind in
              ("startupProbe", "livenessProbe", "readinessProbe")}  # fmt: skip
    assert probes["startupProbe"]["path"] == "/healthz"
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    # Django answers only for allowed host names: the probes must send one of them.
    config = generated(manifests[overlay], "ConfigMap", CONFIG)
    assert config is not None
    allowed = config["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    for probe in probes.values():
        assert probe["port"] == "http"
        hosts = [h["value"] for h in probe.get("httpHeaders", []) if h["name"] == "Host"]
        assert hosts
        assert hosts[0] in allowed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_autoscalers_and_disruption_budgets(manifests, overlay):
    objects = manifests[overlay]
    deployments = of_kind(objects, "Deployment")
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {"web", "worker-images"}
    for name, hpa in autoscalers.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        # The autoscaler owns the count; a replicas field would fight it on every apply.
        assert "replicas" not in deployments[name]["spec"], name
    budgets = of_kind(objects, "PodDisruptionBudget")
    assert set(budgets) == {"web", "worker-images"}
    for name, budget in budgets.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items(), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_pods_and_the_ingress_reaches_web(manifests, overlay):
    objects = manifests[overlay]
    labels = [t["metadata"]["labels"] for t in pod_templates(objects).values()]
    services = of_kind(objects, "Service")
    for name, service in services.items():
        if service["spec"].get("type") == "ExternalName":
            assert service["spec"]["externalName"], name
            continue
        selector = service["spec"]["selector"]
        assert any(selector.items() <= pod.items() for pod in labels), name
    (ingress,) = of_kind(objects, "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    assert ingress["spec"]["tls"][0]["secretName"]
    assert re.fullmatch(r"[a-z0-9.-]+", rule["host"]), rule["host"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "web"
    assert backend["port"]["name"] in {p["name"] for p in services["web"]["spec"]["ports"]}


# --- configuration ----------------------------------------------------------------------


def env_sources(objects: list[Manifest]) -> set[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret a container reads with envFrom."""
    sources = set()
    for template in pod_templates(objects).values():
        for container in template["spec"]["containers"]:
            for source in container.get("envFrom", []):
                for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
                    if key in source:
                        sources.add((kind, source[key]["name"]))
    return sources


def test_staging_provides_the_whole_settings_contract(manifests):
    objects = manifests["staging"]
    config = generated(objects, "ConfigMap", CONFIG)
    secrets = generated(objects, "Secret", SECRETS)
    assert config is not None
    assert secrets is not None
    provided = set(config["data"]) | set(secrets["data"])
    assert set(REQUIRED_VARIABLES) | set(S3_VARIABLES) <= provided
    assert config["data"]["DJANGO_SETTINGS_MODULE"] == "pinstablr.settings.production"
    assert config["data"]["PINSTABLR_MEDIA_STORAGE"] == "s3"
    # Credentials (and URLs that carry them) are in the Secret, never in the ConfigMap.
    credentials = [
        *(n for n in REQUIRED_VARIABLES if n.startswith("DATABASE_")),
        "DJANGO_SECRET_KEY", "REDIS_URL", "CELERY_BROKER_URL", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ]  # fmt: skip
    for name in credentials:
        assert name not in config["data"], name
        assert name in secrets["data"], name
    # Every envFrom reference resolves (generated names carry a hash suffix).
    existing = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert env_sources(objects) <= existing


def test_production_keeps_the_secret_outside_and_the_same_config_keys(manifests):
    production, staging = manifests["production"], manifests["staging"]
    assert generated(production, "Secret", SECRETS) is None
    assert ("Secret", SECRETS) in env_sources(production)
    config = generated(production, "ConfigMap", CONFIG)
    staging_config = generated(staging, "ConfigMap", CONFIG)
    assert config is not None
    assert staging_config is not None
    optional = {"PINSTABLR_RENDITIONS_DOMAIN"}
    assert set(config["data"]) - optional == set(staging_config["data"])
    # Documented for whoever creates the Secret: the keys staging's example generator has.
    documented = (K8S / "overlays" / "production" / "kustomization.yaml").read_text()
    staging_secret = generated(staging, "Secret", SECRETS)
    assert staging_secret is not None
    for key in staging_secret["data"]:
        assert key in documented, key


def staging_urls(manifests: dict[str, list[Manifest]]) -> dict[str, str]:
    import base64

    secret = generated(manifests["staging"], "Secret", SECRETS)
    assert secret is not None
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_apps_urls_name_services_of_the_overlay(manifests, overlay):
    """Kubernetes gives names: every host in the app's URLs is a Service in the namespace."""
    services = of_kind(manifests[overlay], "Service")
    urls = staging_urls(manifests)
    for name in [*[n for n in REQUIRED_VARIABLES if n.startswith("DATABASE_")],
                 "REDIS_URL", "CELERY_BROKER_URL"]:  # fmt: skip
        for url in urls[name].split(","):
            host = urlsplit(url).hostname
            assert host in services, f"{overlay}: {name} names {host}, which is no Service"


def test_staging_broker_password_matches_its_rabbitmq(manifests):
    urls = staging_urls(manifests)
    import base64

    rabbitmq = generated(manifests["staging"], "Secret", "rabbitmq")
    assert rabbitmq is not None
    password = base64.b64decode(rabbitmq["data"]["RABBITMQ_DEFAULT_PASS"]).decode()
    assert urlsplit(urls["CELERY_BROKER_URL"]).password == password


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_stand_in_endpoints_cannot_resolve(manifests, overlay, rendered):
    """Endpoints still to be filled in use .invalid, which never resolves; none is left blank."""
    assert "SET-BY-OVERLAY" not in rendered[overlay]
    for service in of_kind(manifests[overlay], "Service").values():
        external = service["spec"].get("externalName")
        if external:
            assert external.endswith(".invalid"), external


def test_kustomize_sources_parse_and_have_no_secret_values_in_production():
    for path in K8S.rglob("*.yaml"):
        documents = list(yaml.safe_load_all(path.read_text()))
        assert documents, path
    for path in (K8S / "overlays" / "production").rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            assert document.get("kind") != "Secret", path
            assert "secretGenerator" not in document, path
