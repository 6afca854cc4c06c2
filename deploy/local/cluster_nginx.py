"""The shipped load balancer configuration (deploy/nginx/) rendered for a loopback cluster.

deploy/nginx/nginx.conf and upstream.conf stay exactly what docker compose and the image use;
only two things are substituted, and each substitution checks that its anchor is there, so a
change to the shipped files that would silently skip one fails loudly instead:

* ``listen 80 default_server;`` becomes ``listen 127.0.0.1:<port> default_server;``;
* the single ``server web:8000 <parameters>;`` line of upstream.conf becomes one line per
  cluster web server, each with the same parameters (passive health checks).

Logs go to nginx's standard output and error, which the cluster script appends to its log
file; temporary files live under the prefix directory.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "deploy" / "nginx"
LISTEN = "listen 80 default_server;"
SERVER_LINE = re.compile(r"^(\s*)server\s+\S+\s+([^;]*);[^\n]*\n", re.MULTILINE)
MIME_TYPES = Path("/etc/nginx/mime.types")


def render_main(port: int) -> str:
    """nginx.conf listening on 127.0.0.1:``port`` only."""
    text = (SHIPPED / "nginx.conf").read_text()
    if text.count(LISTEN) != 1:
        raise ValueError(f"deploy/nginx/nginx.conf must contain {LISTEN!r} exactly once")
    return text.replace(LISTEN, f"listen 127.0.0.1:{port} default_server;")


def render_upstream(servers: list[str]) -> str:
    """upstream.conf with one ``server`` line per address, keeping the shipped parameters."""
    text = (SHIPPED / "upstream.conf").read_text()
    matches = SERVER_LINE.findall(text)
    if len(matches) != 1:
        raise ValueError("deploy/nginx/upstream.conf must contain exactly one server line")
    indent, parameters = matches[0]
    lines = "".join(f"{indent}server {address} {parameters};\n" for address in servers)
    return SERVER_LINE.sub(lambda _: lines, text, count=1)


def write(prefix: Path, *, port: int, servers: list[str]) -> Path:
    """Write the configuration under ``prefix``/conf; return the path of nginx.conf."""
    conf = prefix / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)  # nginx opens logs/error.log before reading conf
    (conf / "nginx.conf").write_text(render_main(port))
    (conf / "upstream.conf").write_text(render_upstream(servers))
    if MIME_TYPES.exists():
        shutil.copy(MIME_TYPES, conf / "mime.types")
    else:  # nginx-light always ships it; a minimal map keeps the config valid without it
        (conf / "mime.types").write_text(
            "types { text/html html; text/css css; application/javascript js; "
            "image/jpeg jpg; image/webp webp; image/avif avif; }\n"
        )
    return conf / "nginx.conf"


def command(binary: str, prefix: Path, conf: Path, *extra: str) -> list[str]:
    """The nginx command line for ``prefix`` (foreground, pid file under the prefix)."""
    return [
        binary, "-e", "stderr", "-p", f"{prefix}/", "-c", str(conf),
        "-g", f"daemon off; pid {prefix}/nginx.pid;", *extra,
    ]  # fmt: skip
