#!/usr/bin/env python3
"""Local MariaDB replication topology for Pinstablr development and tests.

Starts and stops five private MariaDB 10.11 servers on loopback, next to (and never touching)
any system MariaDB on 127.0.0.1:3306::

    name              port         role                              setting
    primary           base+0 3307  read-write source, binary log on  DATABASE_URL
    replica           base+1 3308  GTID replica of primary           DATABASE_REPLICA_URLS
    reporting         base+2 3309  GTID replica of primary           DATABASE_REPORTING_URL
    experiments_read  base+3 3310  GTID replica of primary           DATABASE_EXPERIMENTS_READ_URL
    experiments       base+4 3311  independent read-write server     DATABASE_EXPERIMENTS_URL

Usage::

    python3 -m deploy.local.topology up|down|status|env [--base-dir DIR]
    python3 -m deploy.local.topology down --purge     # also delete the base directory
    python3 -m deploy.local.topology env --json       # URLs plus per-server sockets and ports
    eval "$(python3 -m deploy.local.topology env)"    # export the Django settings contract

(from the repository's root; ``python3 deploy/local/topology.py`` runs the same module.)

The base directory defaults to ``<repo>/var/topology`` and can be overridden with
``PINSTABLR_TOPOLOGY_DIR`` or ``--base-dir``; the port base defaults to 3307 and can be overridden
with ``PINSTABLR_TOPOLOGY_PORT_BASE`` (change it only while the topology is down; the next
``up`` repoints the replicas).  The same functions are importable by path (for pytest
fixtures): ``up``, ``down``, ``status``, ``server_pid``, ``start_server``, ``stop_server`` and
``sql`` (``from deploy.local import topology``).

Layout and the reasons behind it:

* Every server owns ``<base>/<name>/`` holding ``my.cnf``, ``data/``, ``tmp/``, the socket, the
  pid file and ``error.log``.  Nothing is shared between servers.
* ``--defaults-file=<base>/<name>/my.cnf`` is always the *first* argument given to
  ``mariadb-install-db``, ``mariadbd``, ``mariadb`` and ``mariadb-admin``.  The MariaDB option
  parser only honours ``--defaults-file`` in first position; anywhere else the programs fall back
  to the Debian files under ``/etc/mysql`` and ``~/.my.cnf``, which point at the system server's
  datadir, socket and port.  With it, only our file is read.
* ``log-basename=<name>`` is the first line of the ``[mariadbd]`` section.  It sets the default
  names of the binary log, relay log, pid file and logs, and options that come before it can be
  silently overridden by it.  It also stops those names from depending on the host name.
  (A bare ``log_bin`` still names the binary log after the program, ``mariadbd-bin``, so the
  binary and relay log names are spelled out as well.)
* Every server has its own ``tmpdir``.  Initialising several data directories at once with a
  shared tmpdir has been seen to corrupt their system tables, since the bootstrap servers'
  scratch files can collide; a private tmpdir rules that out.
* ``mariadb-install-db`` runs with socket authentication for root (the OS user running the script
  connects over the socket without a password), no test database and no anonymous users.  The
  bootstrap never writes to the binary log, so a replica configured with an empty
  ``gtid_slave_pos`` replays the primary's complete history, including the accounts below.
* Accounts and the ``pinstablr`` database are created on the primary and reach the replicas by
  replication; the experiments server gets its own copy.  Accounts exist for ``127.0.0.1`` (TCP,
  what the application uses) and ``localhost`` (socket):

  - ``repl``/``repl``: REPLICATION SLAVE, used by the replicas.
  - ``pinstablr``/``pinstablr``: ALL on ``pinstablr%`` and ``test_pinstablr%`` databases (so
    Django can create and drop its test databases); no global privileges.
  - ``pinstablr_ro``/``pinstablr_ro``: SELECT on the same databases plus SLAVE MONITOR, the
    MariaDB 10.5.9+ privilege needed for ``SHOW SLAVE STATUS`` (replication lag).  On the
    replicas ``read_only=ON`` additionally blocks writes by any account without READ_ONLY ADMIN.
    It is the account of the scheduled reports on the reporting replica.
  - ``pinstablr_console``/``pinstablr_console``: the query consoles' account, reading only the
    schemas of views ``pinstablr_console`` and ``pinstablr_experiments_console``. It and its
    views are not made here but by ``manage.py migrate_all`` (``console_schema apply``), as
    root through ``DATABASE_ADMIN_URL``, since the views follow the migrated tables.
  - ``root``@``127.0.0.1`` without a password, so a test harness can stop and start replica
    threads over TCP.  Acceptable only because every server binds to 127.0.0.1.

* Replicas use ``MASTER_USE_GTID=slave_pos`` and keep their connection settings in the data
  directory; ``skip-slave-start`` is left off, so a replica killed with SIGKILL and started
  again resumes replication by itself.  Replicas have no binary log of their own, so an
  accidental local write on a replica cannot create conflicting GTIDs.
* ``innodb_flush_log_at_trx_commit=2`` and ``sync_binlog=0`` avoid fsyncs; they lose data only
  on an operating-system crash, never when a server process is killed.
* Servers run detached (own session, output appended to ``error.log``) and are declared ready
  once ``mariadb-admin ping`` answers on the socket.  They are stopped with the SQL ``SHUTDOWN``
  statement (then SIGTERM, then SIGKILL); ``mariadb-admin shutdown`` is avoided because it
  waits for the pid to disappear, which an exited but not yet reaped server never does.
* ``up`` is idempotent: running servers, initialised data directories and configured
  replication are left as they are (stopped replica threads are started again); accounts are
  re-applied only when this script's account SQL changes.  ``up``, ``down`` and
  ``start_server`` take a lock file in the base directory, so parallel test workers can all
  call ``up``.
* The generated ``[client]`` section sets ``default-character-set=utf8mb4``; clients that do
  not read it (such as the application) should request utf8mb4 themselves.
"""

import argparse
import concurrent.futures
import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __name__ == "__main__" and not __package__:  # run as a file: this folder is on sys.path
    import processes

    processes.rerun_as_module("deploy.local.topology")

from deploy.local import processes

REPO_ROOT = processes.REPO_ROOT
DEFAULT_BASE_DIR = REPO_ROOT / "var" / "topology"
DEFAULT_PORT_BASE = 3307
ENV_BASE_DIR = "PINSTABLR_TOPOLOGY_DIR"
ENV_PORT_BASE = "PINSTABLR_TOPOLOGY_PORT_BASE"

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"
CLIENT = "/usr/bin/mariadb"
ADMIN = "/usr/bin/mariadb-admin"

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
REPLICATION_TIMEOUT = 10
LOCK_FILE = "topology.lock"  # serialises up/down/start_server of several test workers
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes including the terminating NUL

REPL_USER, REPL_PASSWORD = "repl", "repl"
APP_USER, APP_PASSWORD = "pinstablr", "pinstablr"
RO_USER, RO_PASSWORD = "pinstablr_ro", "pinstablr_ro"
CONSOLE_USER, CONSOLE_PASSWORD = "pinstablr_console", "pinstablr_console"
# The consoles read a schema of views beside each database (pinstablr/db/console_schema.py).
CONSOLE_SCHEMA_SUFFIX = "_console"
APP_DATABASE = "pinstablr"
EXPERIMENTS_DATABASE = "pinstablr_experiments"
CHECK_DATABASE = "pinstablr_topology_check"
ACCOUNT_HOSTS = ("127.0.0.1", "localhost")

# Run at the end of mariadb-install-db: drop the proxy grant it adds for the machine's host
# name, which skip-name-resolve ignores with a warning on every start.
BOOTSTRAP_EXTRA_SQL = "DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';\n"


class TopologyError(RuntimeError):
    """Raised when the topology cannot be brought into the requested state."""


@dataclass(frozen=True)
class ServerSpec:
    """Static description of one server of the topology."""

    name: str
    port_offset: int
    server_id: int
    role: str  # "primary", "replica" or "standalone"


SERVERS: tuple[ServerSpec, ...] = (
    ServerSpec("primary", 0, 1, "primary"),
    ServerSpec("replica", 1, 2, "replica"),
    ServerSpec("reporting", 2, 3, "replica"),
    ServerSpec("experiments_read", 3, 4, "replica"),
    ServerSpec("experiments", 4, 5, "standalone"),
)
SPECS = {spec.name: spec for spec in SERVERS}


@dataclass(frozen=True)
class Server:
    """One server of the topology bound to a base directory and a port base."""

    spec: ServerSpec
    base_dir: Path
    port_base: int

    @property
    def name(self) -> str:
        """Server name, e.g. ``primary``."""
        return self.spec.name

    @property
    def role(self) -> str:
        """``primary``, ``replica`` or ``standalone``."""
        return self.spec.role

    @property
    def port(self) -> int:
        """TCP port on 127.0.0.1."""
        return self.port_base + self.spec.port_offset

    @property
    def root(self) -> Path:
        """Directory holding everything that belongs to this server."""
        return self.base_dir / self.name

    @property
    def datadir(self) -> Path:
        """MariaDB data directory."""
        return self.root / "data"

    @property
    def tmpdir(self) -> Path:
        """Private tmpdir (never shared between servers)."""
        return self.root / "tmp"

    @property
    def config(self) -> Path:
        """The only option file this server and its clients read."""
        return self.root / "my.cnf"

    @property
    def socket(self) -> Path:
        """Unix socket path."""
        return self.root / "mariadbd.sock"

    @property
    def pid_file(self) -> Path:
        """Pid file written by mariadbd."""
        return self.root / "mariadbd.pid"

    @property
    def error_log(self) -> Path:
        """Error log; mariadbd's stdout and stderr are appended to it as well."""
        return self.root / "error.log"

    @property
    def init_marker(self) -> Path:
        """Written after mariadb-install-db succeeded; absent means the datadir is unusable."""
        return self.root / "initialised"

    def defaults_arg(self) -> str:
        """Return ``--defaults-file=...``, which must be the first argument of MariaDB programs."""
        return f"--defaults-file={self.config}"


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def resolve_base_dir(base_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the base directory: argument, then ``PINSTABLR_TOPOLOGY_DIR``, then the default."""
    chosen = base_dir or os.environ.get(ENV_BASE_DIR) or DEFAULT_BASE_DIR
    return Path(chosen).expanduser().resolve()


def port_base() -> int:
    """Return the first port of the topology (``PINSTABLR_TOPOLOGY_PORT_BASE``, default 3307)."""
    raw = os.environ.get(ENV_PORT_BASE, "").strip()
    if not raw:
        return DEFAULT_PORT_BASE
    try:
        value = int(raw)
    except ValueError:
        raise TopologyError(f"{ENV_PORT_BASE}={raw!r} is not an integer") from None
    if not 1024 <= value <= 65535 - len(SERVERS):
        raise TopologyError(f"{ENV_PORT_BASE}={value} is outside 1024..{65535 - len(SERVERS)}")
    return value


def servers(base_dir: str | os.PathLike[str] | None = None) -> list[Server]:
    """Return all servers of the topology for ``base_dir``."""
    base = resolve_base_dir(base_dir)
    ports = port_base()
    return [Server(spec, base, ports) for spec in SERVERS]


def get_server(name: str, base_dir: str | os.PathLike[str] | None = None) -> Server:
    """Return the server called ``name``."""
    if name not in SPECS:
        raise TopologyError(f"unknown server {name!r}; expected one of {', '.join(SPECS)}")
    return Server(SPECS[name], resolve_base_dir(base_dir), port_base())


def os_user() -> str:
    """Return the name of the OS user running the script; the client connects as this user.

    As root that is MariaDB's ``root``@``localhost``; for anyone else mariadb-install-db creates
    an all-privileges ``<user>``@``localhost`` account, both authenticated by the unix socket.
    """
    return pwd.getpwuid(os.geteuid()).pw_name


def render_config(server: Server) -> str:
    """Return the option file for ``server``."""
    spec = server.spec
    mariadbd = [
        # log-basename must come first: it resets the default names of the pid file, logs,
        # binary log and relay log, overriding anything set before it.
        f"log-basename={server.name}",
        f"server_id={spec.server_id}",
        f"port={server.port}",
        "bind-address=127.0.0.1",
        f"socket={server.socket}",
        f"pid-file={server.pid_file}",
        f"datadir={server.datadir}",
        f"tmpdir={server.tmpdir}",
        f"log-error={server.error_log}",
    ]
    if os.geteuid() == 0:
        mariadbd.append("user=root")
    mariadbd += [
        "skip-name-resolve",
        "character-set-server=utf8mb4",
        "max_connections=200",
        "max_allowed_packet=64M",
        "performance_schema=OFF",
        "innodb_buffer_pool_size=32M",
        "innodb_log_file_size=16M",
        "innodb_log_buffer_size=4M",
        "innodb_read_io_threads=1",
        "innodb_write_io_threads=2",
        "innodb_flush_log_at_trx_commit=2",
        "aria_pagecache_buffer_size=8M",
        "key_buffer_size=1M",
        "table_open_cache=400",
        "gtid_domain_id=0",
        "gtid_strict_mode=ON",
        "slave_net_timeout=10",
    ]
    if spec.role in ("primary", "standalone"):
        # An explicit name: a bare log_bin names the files after the program (mariadbd-bin).
        mariadbd += [f"log-bin={server.name}-bin", "binlog_format=ROW", "sync_binlog=0"]
    if spec.role == "replica":
        # skip-slave-start stays OFF: a restarted replica resumes replication on its own.
        mariadbd += [f"relay-log={server.name}-relay-bin", "read_only=ON", "relay_log_recovery=ON"]
    client = [
        f"socket={server.socket}",
        "protocol=socket",
        "default-character-set=utf8mb4",
        f"user={os_user()}",
    ]
    lines = [
        "# Generated by deploy/local/topology.py; rewritten on every start.",
        "[mariadbd]",
        *mariadbd,
        "",
        "[client]",
        *client,
        "",
    ]
    return "\n".join(lines)


def check_socket_paths(targets: list[Server]) -> None:
    """Fail before creating anything if a socket path would exceed the Unix limit."""
    for server in targets:
        if len(str(server.socket).encode()) > SOCKET_PATH_MAX:
            raise TopologyError(
                f"socket path {server.socket} is longer than {SOCKET_PATH_MAX} bytes; "
                f"choose a shorter base directory"
            )


def prepare_dirs(server: Server) -> None:
    """Create the server's directories and (re)write its option file if it changed."""
    for path in (server.root, server.datadir, server.tmpdir):
        path.mkdir(parents=True, exist_ok=True)
    text = render_config(server)
    if not server.config.exists() or server.config.read_text() != text:
        server.config.write_text(text)


def require_binaries() -> None:
    """Fail with installation advice if the MariaDB programs are missing."""
    missing = [
        path for path in (MARIADBD, INSTALL_DB, CLIENT, ADMIN) if not os.access(path, os.X_OK)
    ]
    if missing:
        raise TopologyError(
            "MariaDB programs not found: "
            + ", ".join(missing)
            + ". Install the Debian package mariadb-server (apt-get install mariadb-server), "
            "or mariadb-server-core and mariadb-client for the binaries without a system service."
        )


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


def _find_pid(server: Server) -> int | None:
    """Return the server's pid from its pid file, or by scanning /proc if the file is stale."""
    found = processes.find_pids(
        server.pid_file,
        lambda argv: len(argv) > 1 and argv[1].decode(errors="replace") == server.defaults_arg(),
    )
    return found[0] if found else None


def server_pid(name: str, base_dir: str | os.PathLike[str] | None = None) -> int | None:
    """Return the pid of the running server ``name``, or None if it is not running."""
    return _find_pid(get_server(name, base_dir))


def _admin(server: Server, *args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    """Run ``mariadb-admin`` against ``server`` over its socket."""
    return subprocess.run(
        [ADMIN, server.defaults_arg(), "--connect-timeout=2", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _ping(server: Server) -> bool:
    """Return whether the server answers ``mariadb-admin ping`` on its socket."""
    if not server.socket.exists():
        return False
    try:
        return _admin(server, "ping", timeout=5).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def log_tail(server: Server, lines: int = 25) -> str:
    """Return the last lines of the server's error log."""
    return processes.log_tail(server.error_log, lines=lines)


def _port_in_use(port: int) -> bool:
    """Return whether something already listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def initialise(server: Server) -> bool:
    """Run mariadb-install-db unless the data directory is already initialised.

    Returns True if a fresh data directory was created.
    """
    if server.init_marker.exists():
        return False
    # A datadir without the marker comes from an interrupted initialisation: start over.
    shutil.rmtree(server.datadir, ignore_errors=True)
    server.datadir.mkdir(parents=True)
    extra = server.tmpdir / "bootstrap-extra.sql"
    extra.write_text(BOOTSTRAP_EXTRA_SQL)
    try:
        result = subprocess.run(
            [
                INSTALL_DB,
                server.defaults_arg(),  # must be first
                "--auth-root-authentication-method=socket",
                f"--auth-root-socket-user={os_user()}",
                "--skip-test-db",
                f"--extra-file={extra}",
                # Skips the host name lookup and, as root, the chown of the system PAM helper.
                "--rpm",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        extra.unlink(missing_ok=True)
    if result.returncode != 0:
        raise TopologyError(
            f"mariadb-install-db failed for {server.name} (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}\n--- {server.error_log} ---\n{log_tail(server)}"
        )
    server.init_marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    return True


def _spawn(server: Server) -> subprocess.Popen[bytes]:
    """Start mariadbd for ``server`` detached from this process's session."""
    server.pid_file.unlink(missing_ok=True)  # stale pid file from a killed server
    with open(server.error_log, "ab") as log:
        child = subprocess.Popen(
            [MARIADBD, server.defaults_arg()],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            cwd=server.root,
        )
    processes.track(child)
    return child


def _wait_ready(server: Server, pid: int) -> None:
    """Wait until ``server`` (process ``pid``) answers pings; raise with the log tail otherwise."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not processes.alive(pid):
            exit_code = processes.forget(pid)
            raise TopologyError(
                f"mariadbd for {server.name} (pid {pid}) exited during startup"
                f"{'' if exit_code is None else f' with status {exit_code}'}; "
                f"last lines of {server.error_log}:\n{log_tail(server)}"
            )
        if _ping(server):
            return
        time.sleep(0.05)
    raise TopologyError(
        f"mariadbd for {server.name} did not answer on {server.socket} within "
        f"{START_TIMEOUT:.0f}s; last lines of {server.error_log}:\n{log_tail(server)}"
    )


def _start_many(targets: list[Server]) -> list[str]:
    """Initialise and start every server in ``targets`` that is not running; return their names.

    A server whose process exists but does not answer yet (still starting, e.g. during crash
    recovery) is waited for instead of being started twice.
    """
    for server in targets:
        prepare_dirs(server)
    waiting: list[tuple[Server, int]] = []
    stopped: list[Server] = []
    for server in targets:
        pid = _find_pid(server)
        if pid is None:
            stopped.append(server)
        elif not _ping(server):
            waiting.append((server, pid))
    busy = [f"{s.name} ({s.port})" for s in stopped if _port_in_use(s.port)]
    if busy:
        raise TopologyError(
            f"ports already in use on 127.0.0.1: {', '.join(busy)}; "
            f"set {ENV_PORT_BASE} to move the topology"
        )
    if stopped:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(stopped)) as pool:
            list(pool.map(initialise, stopped))
        waiting += [(server, _spawn(server).pid) for server in stopped]
    if waiting:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(waiting)) as pool:
            list(pool.map(lambda pair: _wait_ready(*pair), waiting))
    return [server.name for server in stopped]


def start_server(name: str, base_dir: str | os.PathLike[str] | None = None) -> int:
    """Start one server (e.g. after it was killed) and return its pid.

    Replicas resume replication by themselves: their connection settings and GTID position
    are kept in the data directory and ``skip-slave-start`` is off.
    """
    require_binaries()
    server = get_server(name, base_dir)
    check_socket_paths([server])
    with processes.locked(server.base_dir / LOCK_FILE):
        _start_many([server])
    pid = _find_pid(server)
    if pid is None:
        raise TopologyError(f"{name} started but its pid could not be found")
    return pid


def stop_server(name: str, base_dir: str | os.PathLike[str] | None = None) -> None:
    """Stop one server cleanly (SHUTDOWN, then SIGTERM, then SIGKILL)."""
    server = get_server(name, base_dir)
    with processes.locked(server.base_dir / LOCK_FILE):
        _stop(server)


def _stop(server: Server) -> None:
    """Stop ``server`` if it runs: SHUTDOWN over the socket, then SIGTERM, then SIGKILL."""
    pid = _find_pid(server)
    if pid is None:
        server.pid_file.unlink(missing_ok=True)
        return
    # The SQL SHUTDOWN statement returns at once.  ``mariadb-admin shutdown`` would instead poll
    # the pid until it vanishes, which a not-yet-reaped (zombie) server never does.
    with contextlib.suppress(TopologyError, subprocess.TimeoutExpired):
        _run_sql(server, "SHUTDOWN;", timeout=STOP_TIMEOUT)  # else: the signals below
    if not processes.wait_exit(pid, STOP_TIMEOUT):
        for sig, grace in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            if processes.wait_exit(pid, grace):
                break
        else:
            raise TopologyError(f"{server.name} (pid {pid}) survived SIGKILL")
    processes.forget(pid)
    server.pid_file.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# SQL
# --------------------------------------------------------------------------------------------

_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "0": "\0"}


def _unescape(value: str) -> str | None:
    """Undo the escaping of ``mariadb --batch`` output; the bare word NULL becomes None."""
    if value == "NULL":
        return None
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "")
            out.append(_UNESCAPE.get(nxt, "\\" + nxt))
        else:
            out.append(char)
    return "".join(out)


def _run_sql(
    server: Server, statement: str, column_names: bool = False, timeout: float = 60.0
) -> list[tuple[str | None, ...]]:
    """Run SQL as the OS user's root account over the socket and return the rows as strings."""
    args = [CLIENT, server.defaults_arg(), "--batch", "--connect-timeout=5"]
    if not column_names:
        args.append("--skip-column-names")
    result = subprocess.run(
        args, input=statement, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise TopologyError(
            f"SQL on {server.name} failed: {result.stderr.strip()}\nstatement: {statement.strip()}"
        )
    return [
        tuple(_unescape(field) for field in line.split("\t")) for line in result.stdout.splitlines()
    ]


def sql(
    name: str, statement: str, base_dir: str | os.PathLike[str] | None = None
) -> list[tuple[str | None, ...]]:
    """Run ``statement`` (one or more SQL statements) as root on server ``name``.

    Returns the rows of the last result set as tuples of strings (SQL NULL becomes None).
    """
    return _run_sql(get_server(name, base_dir), statement)


def _query_dicts(server: Server, statement: str) -> list[dict[str, str | None]]:
    """Run one query and return its rows as dictionaries keyed by column name."""
    rows = _run_sql(server, statement, column_names=True)
    if not rows:
        return []
    header = [str(column) for column in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _quote(value: str) -> str:
    """Quote a string literal for SQL."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def accounts_sql(database: str) -> str:
    """Return idempotent SQL creating the accounts, ``database`` and the bookkeeping tables."""
    statements: list[str] = []
    # Database name patterns: ``_`` is a wildcard in grants, so it is escaped.
    patterns = ("`pinstablr%`.*", "`test\\_pinstablr%`.*")
    for host in ACCOUNT_HOSTS:
        repl = f"{_quote(REPL_USER)}@{_quote(host)}"
        app = f"{_quote(APP_USER)}@{_quote(host)}"
        ro = f"{_quote(RO_USER)}@{_quote(host)}"
        statements += [
            f"CREATE USER IF NOT EXISTS {repl} IDENTIFIED BY {_quote(REPL_PASSWORD)}",
            f"GRANT REPLICATION SLAVE ON *.* TO {repl}",
            f"CREATE USER IF NOT EXISTS {app} IDENTIFIED BY {_quote(APP_PASSWORD)}",
            f"CREATE USER IF NOT EXISTS {ro} IDENTIFIED BY {_quote(RO_PASSWORD)}",
            f"GRANT SLAVE MONITOR ON *.* TO {ro}",
        ]
        for pattern in patterns:
            statements += [
                f"GRANT ALL PRIVILEGES ON {pattern} TO {app}",
                f"GRANT SELECT ON {pattern} TO {ro}",
            ]
    statements += [
        "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'",
        "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
        f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4",
        f"CREATE DATABASE IF NOT EXISTS `{CHECK_DATABASE}` CHARACTER SET utf8mb4",
        f"CREATE TABLE IF NOT EXISTS `{CHECK_DATABASE}`.marker ("
        "id INT PRIMARY KEY, token CHAR(32) NOT NULL, written_at DATETIME(6) NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS `{CHECK_DATABASE}`.provisioning ("
        "name VARCHAR(64) PRIMARY KEY, digest CHAR(64) NOT NULL)",
    ]
    return ";\n".join(statements) + ";\n"


def provision(server: Server, database: str) -> bool:
    """Apply :func:`accounts_sql` unless this exact version was already applied.

    The digest of the applied SQL is stored on the server, so repeated ``up`` runs do not fill
    the binary log with no-op account statements.  Returns True if the SQL was applied.
    """
    script = accounts_sql(database)
    digest = hashlib.sha256(script.encode()).hexdigest()
    exists = _run_sql(
        server,
        "SELECT COUNT(*) FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = '{CHECK_DATABASE}' AND TABLE_NAME = 'provisioning';",
    )
    if exists and exists[0][0] == "1":
        stored = _run_sql(
            server, f"SELECT digest FROM `{CHECK_DATABASE}`.provisioning WHERE name = 'accounts';"
        )
        if stored and stored[0][0] == digest:
            return False
    _run_sql(
        server,
        script + f"REPLACE INTO `{CHECK_DATABASE}`.provisioning VALUES ('accounts', '{digest}');\n",
    )
    return True


# --------------------------------------------------------------------------------------------
# Replication
# --------------------------------------------------------------------------------------------


def slave_status(server: Server) -> dict[str, str | None] | None:
    """Return SHOW SLAVE STATUS of ``server`` as a dict, or None if replication is unconfigured."""
    rows = _query_dicts(server, "SHOW SLAVE STATUS")
    return rows[0] if rows else None


def configure_replica(replica: Server, primary: Server) -> str:
    """Point ``replica`` at ``primary`` unless already done; return what was done."""
    current = slave_status(replica)
    change = (
        f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
        f"MASTER_USER={_quote(REPL_USER)}, MASTER_PASSWORD={_quote(REPL_PASSWORD)}, "
        f"MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos"
    )
    if current is None or not current.get("Master_Host"):
        # Fresh replica: replay the primary's binary log from its very beginning.
        _run_sql(replica, f"SET GLOBAL gtid_slave_pos='';\n{change};\nSTART SLAVE;")
        return "configured"
    if current.get("Master_Port") != str(primary.port) or current.get("Master_Host") != "127.0.0.1":
        # Port base changed: keep the GTID position, only move the connection.
        _run_sql(replica, f"STOP SLAVE;\n{change};\nSTART SLAVE;")
        return "repointed"
    if current.get("Slave_IO_Running") != "Yes" or current.get("Slave_SQL_Running") != "Yes":
        _run_sql(replica, "START SLAVE;")
        return "restarted"
    return "unchanged"


def verify_replication(primary: Server, replicas: list[Server]) -> None:
    """Write a marker row on the primary and wait until every replica has applied it."""
    token = uuid.uuid4().hex
    rows = _run_sql(
        primary,
        f"REPLACE INTO `{CHECK_DATABASE}`.marker VALUES (1, '{token}', NOW(6));\n"
        "SELECT @@GLOBAL.gtid_binlog_pos;",
    )
    position = rows[-1][0] or ""
    for replica in replicas:
        result = _run_sql(
            replica,
            f"SELECT MASTER_GTID_WAIT({_quote(position)}, {REPLICATION_TIMEOUT});\n"
            f"SELECT token FROM `{CHECK_DATABASE}`.marker WHERE id = 1;",
            timeout=REPLICATION_TIMEOUT + 30,
        )
        waited = result[0][0] if result else None
        seen = result[1][0] if len(result) > 1 else None
        if waited != "0" or seen != token:
            state = slave_status(replica) or {}
            raise TopologyError(
                f"{replica.name} did not replicate GTID {position} within "
                f"{REPLICATION_TIMEOUT}s: IO={state.get('Slave_IO_Running')} "
                f"SQL={state.get('Slave_SQL_Running')} "
                f"io_error={state.get('Last_IO_Error')!r} "
                f"sql_error={state.get('Last_SQL_Error')!r}"
            )


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _url(user: str, password: str, port: int, database: str) -> str:
    """Return a ``mysql://`` URL on 127.0.0.1."""
    return f"mysql://{user}:{password}@127.0.0.1:{port}/{database}"


def environment(base_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Return the Django environment contract plus per-server details under ``servers``."""
    by_name = {server.name: server for server in servers(base_dir)}

    def ro(name: str) -> str:
        return _url(RO_USER, RO_PASSWORD, by_name[name].port, APP_DATABASE)

    def console(name: str, database: str) -> str:
        schema = database + CONSOLE_SCHEMA_SUFFIX
        return _url(CONSOLE_USER, CONSOLE_PASSWORD, by_name[name].port, schema)

    return {
        "DATABASE_URL": _url(APP_USER, APP_PASSWORD, by_name["primary"].port, APP_DATABASE),
        "DATABASE_REPLICA_URLS": ro("replica"),
        "DATABASE_REPORTING_URL": ro("reporting"),
        "DATABASE_EXPERIMENTS_READ_URL": ro("experiments_read"),
        "DATABASE_EXPERIMENTS_URL": _url(
            APP_USER, APP_PASSWORD, by_name["experiments"].port, EXPERIMENTS_DATABASE
        ),
        # The query consoles' account, on each console's schema of views.
        "PINSTABLR_CONSOLE_REPORTING_URL": console("reporting", APP_DATABASE),
        "PINSTABLR_CONSOLE_EXPERIMENTS_READ_URL": console("experiments_read", APP_DATABASE),
        "PINSTABLR_CONSOLE_EXPERIMENTS_URL": console("experiments", EXPERIMENTS_DATABASE),
        # Who builds those schemas (migrate_all, through console_schema apply).
        "DATABASE_ADMIN_URL": f"mysql://root@127.0.0.1:{by_name['primary'].port}/",
        "DATABASE_EXPERIMENTS_ADMIN_URL": f"mysql://root@127.0.0.1:{by_name['experiments'].port}/",
        "servers": {
            server.name: {
                "port": server.port,
                "socket": str(server.socket),
                "pid_file": str(server.pid_file),
                "role": server.role,
            }
            for server in by_name.values()
        },
    }


def up(base_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Bring the whole topology up (idempotently) and verify replication.

    Returns the same structure as :func:`environment`.
    """
    require_binaries()
    all_servers = servers(base_dir)
    by_name = {server.name: server for server in all_servers}
    primary = by_name["primary"]
    replicas = [server for server in all_servers if server.role == "replica"]
    check_socket_paths(all_servers)
    with processes.locked(primary.base_dir / LOCK_FILE):
        _start_many(all_servers)
        provision(primary, APP_DATABASE)
        provision(by_name["experiments"], EXPERIMENTS_DATABASE)
        for replica in replicas:
            configure_replica(replica, primary)
        verify_replication(primary, replicas)
    return environment(base_dir)


def down(base_dir: str | os.PathLike[str] | None = None, purge: bool = False) -> None:
    """Stop every server of the topology; with ``purge`` also delete the base directory."""
    all_servers = servers(base_dir)
    base = resolve_base_dir(base_dir)
    if not base.exists():
        _stop_all(all_servers)  # nothing on disk; still stop any server found in /proc
        return
    with processes.locked(base / LOCK_FILE):
        _stop_all(all_servers)
        if purge:
            shutil.rmtree(base)


def _stop_all(all_servers: list[Server]) -> None:
    """Stop ``all_servers`` in parallel, replicas first; fail if any survives."""
    # Replicas first, so they do not log connection errors for a vanished primary.
    replicas = [server for server in all_servers if server.role == "replica"]
    others = [server for server in all_servers if server.role != "replica"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(all_servers)) as pool:
        list(pool.map(_stop, replicas))
        list(pool.map(_stop, others))
    leftovers = [server.name for server in all_servers if _find_pid(server) is not None]
    if leftovers:
        raise TopologyError(f"servers still running after down: {', '.join(leftovers)}")


def status(base_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Return one dict per server: name, port, role, running, pid, ok and replica state."""
    result: list[dict[str, Any]] = []
    for server in servers(base_dir):
        pid = _find_pid(server)
        running = pid is not None and _ping(server)
        entry: dict[str, Any] = {
            "name": server.name,
            "port": server.port,
            "role": server.role,
            "running": running,
            "pid": pid,
            "ok": running,
        }
        if server.role == "replica":
            state = (slave_status(server) if running else None) or {}
            entry.update(
                slave_io_running=state.get("Slave_IO_Running"),
                slave_sql_running=state.get("Slave_SQL_Running"),
                seconds_behind_master=state.get("Seconds_Behind_Master"),
                gtid_io_pos=state.get("Gtid_IO_Pos"),
                last_io_error=state.get("Last_IO_Error") or None,
                last_sql_error=state.get("Last_SQL_Error") or None,
            )
            entry["ok"] = (
                running
                and entry["slave_io_running"] == "Yes"
                and entry["slave_sql_running"] == "Yes"
            )
        result.append(entry)
    return result


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def format_status(entry: dict[str, Any]) -> str:
    """Return the one-line description of a status entry."""
    state = f"running pid={entry['pid']}" if entry["running"] else "stopped"
    line = f"{entry['name']:<17} {entry['port']:>5}  {state:<20} {entry['role']:<10}"
    if entry["role"] == "replica" and entry["running"]:
        line += (
            f" io={entry['slave_io_running']} sql={entry['slave_sql_running']}"
            f" behind={entry['seconds_behind_master']} gtid_io_pos={entry['gtid_io_pos'] or '-'}"
        )
        for key in ("last_io_error", "last_sql_error"):
            if entry.get(key):
                line += f" {key}={entry[key]!r}"
    return line.rstrip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = processes.command_parser(
        description="Start and stop the local Pinstablr MariaDB replication topology.",
        base_dir_help=f"topology directory (default: ${ENV_BASE_DIR} or {DEFAULT_BASE_DIR})",
    )
    return processes.parse_command(parser, argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = parse_args(argv)
    try:
        if args.command == "up":
            started = time.monotonic()
            up(args.base_dir)
            elapsed = time.monotonic() - started
            for entry in status(args.base_dir):
                print(format_status(entry))
            print(f"topology up in {elapsed:.2f}s (base dir {resolve_base_dir(args.base_dir)})")
            print('load the settings with: eval "$(python3 -m deploy.local.topology env)"')
            return 0
        if args.command == "down":
            return processes.timed_down(
                "topology", lambda: down(args.base_dir, purge=args.purge), purge=args.purge
            )
        if args.command == "status":
            entries = status(args.base_dir)
            for entry in entries:
                print(format_status(entry))
            return 0 if all(entry["ok"] for entry in entries) else 1
        processes.print_environment(environment(args.base_dir), as_json=args.json)
        return 0
    except TopologyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
