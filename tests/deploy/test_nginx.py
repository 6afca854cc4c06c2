"""deploy/nginx: the load balancer's configuration, checked by nginx itself and then run.

The configuration is copied to a temporary prefix with its upstream pointed at stand-in web
servers on 127.0.0.1 and its listener moved to a free loopback port (nothing listens beyond
loopback); ``nginx -t`` checks it, then a real nginx serves a few requests to show retries,
headers and limits behave as the comments say.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy.tools import DEPLOY, tool
from tests.services import free_port, missing
from tests.waiting import wait_until

NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"
UPSTREAM_CONF = DEPLOY / "nginx" / "upstream.conf"
LISTEN = "listen 80 default_server;"
UPLOAD_MAX_BYTES_DEFAULT = 25 * 1000 * 1000
IMMUTABLE = "public, max-age=31536000, immutable"
# Renditions: a year in browsers, PINSTABLR_RENDITION_SHARED_MAX_AGE (600 s) in shared caches.
RENDITION = "public, max-age=31536000, s-maxage=600, immutable"


def nginx_binary() -> str:
    found = tool("nginx", "/usr/sbin")
    if found is None:
        missing("nginx is not installed (Debian package nginx-light)")
    assert found is not None  # missing() skipped or failed the test
    return found


def directives(text: str) -> str:
    """The configuration without its comments."""
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def upstream_for(servers: list[str]) -> str:
    """upstream.conf with its server lines replaced, keeping their parameters."""
    text = UPSTREAM_CONF.read_text()
    (parameters,) = re.findall(r"^\s*server\s+\S+\s+([^;]*);", directives(text), re.MULTILINE)
    lines = "".join(f"    server {address} {parameters};\n" for address in servers)
    return re.sub(r"^\s*server\s+[^\n]*\n", lines, text, count=1, flags=re.MULTILINE)


def prepare(prefix: Path, servers: list[str], port: int) -> Path:
    conf = prefix / "conf"
    conf.mkdir(parents=True)
    text = NGINX_CONF.read_text()
    assert text.count(LISTEN) == 1
    (conf / "nginx.conf").write_text(
        text.replace(LISTEN, f"listen 127.0.0.1:{port} default_server;")
    )
    (conf / "upstream.conf").write_text(upstream_for(servers))
    mime_types = Path("/etc/nginx/mime.types")
    if mime_types.exists():
        shutil.copy(mime_types, conf / "mime.types")
    else:
        (conf / "mime.types").write_text("types { text/css css; image/webp webp; }\n")
    return conf / "nginx.conf"


def nginx_command(prefix: Path, conf: Path, *extra: str) -> list[str]:
    return [nginx_binary(), "-e", "stderr", "-p", f"{prefix}/", "-c", str(conf), *extra]


# --- the configuration ------------------------------------------------------------------


def test_nginx_accepts_the_configuration(tmp_path):
    conf = prepare(tmp_path, ["127.0.0.1:9", "127.0.0.1:10"], free_port())
    result = subprocess.run(
        nginx_command(tmp_path, conf, "-t", "-g", f"pid {tmp_path}/nginx.pid;"),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_web_servers_have_passive_health_checks():
    upstream = directives(UPSTREAM_CONF.read_text())
    servers = re.findall(r"^\s*server\s+(\S+)\s+([^;]*);", upstream, re.MULTILINE)
    assert servers == [("web:8000", "max_fails=3 fail_timeout=10s")]


def test_only_idempotent_requests_are_retried():
    config = directives(NGINX_CONF.read_text())
    assert re.findall(r"proxy_next_upstream\s+([^;]*);", config) == [
        "error timeout http_502 http_503", "off",
    ]  # fmt: skip
    assert "non_idempotent" not in config


def test_body_limit_leaves_room_for_the_upload_limit_and_multipart_overhead():
    from django.conf import settings

    (limit,) = re.findall(r"client_max_body_size\s+(\d+)m;", directives(NGINX_CONF.read_text()))
    limit_bytes = int(limit) * 1024 * 1024
    assert settings.PINSTABLR_UPLOAD_MAX_BYTES == UPLOAD_MAX_BYTES_DEFAULT
    assert UPLOAD_MAX_BYTES_DEFAULT + 1_000_000 <= limit_bytes <= 32 * 1024 * 1024
    assert "PINSTABLR_UPLOAD_MAX_BYTES" in NGINX_CONF.read_text()


# --- a running load balancer ------------------------------------------------------------


@dataclass
class Upstream:
    """A stand-in web server on loopback that records what it was sent."""

    respond: Callable[[str, str], tuple[int, dict[str, str]]]
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    address: str = ""

    def count(self, method: str) -> int:
        return sum(1 for m, _, _ in self.requests if m == method)


def web_app(method: str, path: str) -> tuple[int, dict[str, str]]:
    """Answers like the app would for the paths the tests use."""
    if path in ("/media/r/missing.webp", "/media/hidden/1/missing.webp"):
        return 404, {}
    if path.startswith("/media/r/"):
        return 200, {"Cache-Control": RENDITION, "X-Content-Type-Options": "nosniff"}
    if path.startswith("/media/hidden/"):  # as if the app forgot to forbid caching
        return 200, {"Cache-Control": "public, max-age=60"}
    if path.startswith("/static/"):
        return 200, {"Cache-Control": "max-age=60", "X-Content-Type-Options": "nosniff"}
    if path == "/readyz":
        return 503, {}
    return (201 if method == "POST" else 200), {}


def broken(method: str, path: str) -> tuple[int, dict[str, str]]:
    return 502, {}


@pytest.fixture
def start_upstream() -> Iterator[Callable[..., Upstream]]:
    servers: list[ThreadingHTTPServer] = []

    def start(respond: Callable[[str, str], tuple[int, dict[str, str]]]) -> Upstream:
        upstream = Upstream(respond)

        class Handler(BaseHTTPRequestHandler):
            def handle_request(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                upstream.requests.append((self.command, self.path, headers))
                status, extra = upstream.respond(self.command, self.path)
                body = json.dumps(headers).encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = handle_request

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        upstream.address = f"127.0.0.1:{server.server_address[1]}"
        return upstream

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class Balancer:
    port: int
    access_log: Path

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response


@pytest.fixture
def start_balancer(tmp_path) -> Iterator[Callable[[list[Upstream]], Balancer]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(upstreams: list[Upstream]) -> Balancer:
        port = free_port()
        prefix = tmp_path / f"nginx-{len(processes)}"
        conf = prepare(prefix, [u.address for u in upstreams], port)
        access_log = prefix / "stdout.log"
        with open(access_log, "wb") as stdout:
            process = subprocess.Popen(
                nginx_command(prefix, conf, "-g", f"daemon off; pid {prefix}/nginx.pid;"),
                stdout=stdout, stderr=subprocess.PIPE,
            )  # fmt: skip
        processes.append(process)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    errors = process.stderr.read().decode() if process.stderr else ""
                    raise AssertionError(f"nginx did not start: {errors}") from None
                time.sleep(0.02)
        return Balancer(port, access_log)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def test_idempotent_requests_move_to_the_next_server(start_upstream, start_balancer):
    failing, healthy = start_upstream(broken), start_upstream(web_app)
    balancer = start_balancer([failing, healthy])
    statuses = [balancer.request("GET", f"/photos/{i}/").status for i in range(5)]
    assert statuses == [200] * 5
    assert failing.count("GET") >= 1  # asked first, answered 502, passed on
    assert healthy.count("GET") == 5


def test_posts_are_never_sent_twice(start_upstream, start_balancer):
    failing, healthy = start_upstream(broken), start_upstream(web_app)
    balancer = start_balancer([failing, healthy])
    statuses = [balancer.request("POST", "/api/v1/photos/", body=b"x").status for _ in range(4)]
    assert failing.count("POST") >= 1
    assert failing.count("POST") + healthy.count("POST") == 4
    assert statuses.count(502) == failing.count("POST")
    assert statuses.count(201) == healthy.count("POST")


def test_readiness_is_passed_on_as_it_is(start_upstream, start_balancer):
    first, second = start_upstream(web_app), start_upstream(web_app)
    balancer = start_balancer([first, second])
    assert balancer.request("GET", "/readyz").status == 503
    assert len(first.requests) + len(second.requests) == 1


def test_request_id_and_forwarded_headers(start_upstream, start_balancer):
    web = start_upstream(web_app)
    balancer = start_balancer([web])
    response = balancer.request(
        "GET", "/feed/", headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "forged"}
    )
    assert response.status == 200
    (_, _, sent) = web.requests[0]
    request_id = sent["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.headers["X-Request-ID"] == request_id
    assert sent["x-forwarded-for"] == "127.0.0.1"  # a client's own value is replaced
    assert sent["x-forwarded-proto"] == "http"
    assert sent["host"] == f"127.0.0.1:{balancer.port}"
    # nginx writes the access log line after it has answered.
    wait_until(
        lambda: f"rid={request_id}" in balancer.access_log.read_text(),
        timeout=5,
        what="the request's line in the access log",
    )


def test_renditions_keep_the_apps_cache_header_and_are_never_sniffed(
    start_upstream, start_balancer
):
    from django.conf import settings

    assert settings.RENDITION_CACHE_CONTROL == RENDITION  # the stand-in answers as the app
    balancer = start_balancer([start_upstream(web_app)])
    found = balancer.request("GET", "/media/r/ab/abcdef.webp")
    assert found.status == 200
    assert found.headers.get_all("Cache-Control") == [RENDITION]
    assert found.headers.get_all("X-Content-Type-Options") == ["nosniff"]
    absent = balancer.request("GET", "/media/r/missing.webp")
    assert absent.status == 404
    assert absent.headers.get("Cache-Control") is None  # a 404 is not cached for a year
    assert absent.headers.get_all("X-Content-Type-Options") == ["nosniff"]


def test_a_hidden_photos_files_are_never_cached_on_the_way(start_upstream, start_balancer):
    balancer = start_balancer([start_upstream(web_app)])
    for path, status in [
        ("/media/hidden/1/ab/abcdef.webp", 200),
        ("/media/hidden/1/missing.webp", 404),
    ]:
        response = balancer.request("GET", path)
        assert response.status == status
        assert response.headers.get_all("Cache-Control") == ["private, no-store"]
        assert response.headers.get_all("X-Content-Type-Options") == ["nosniff"]


def test_hashed_static_files_are_cached_for_a_year(start_upstream, start_balancer):
    balancer = start_balancer([start_upstream(web_app)])
    hashed = balancer.request("GET", "/static/css/site.0123456789ab.css")
    assert hashed.headers.get_all("Cache-Control") == [IMMUTABLE]
    plain = balancer.request("GET", "/static/css/site.css")
    assert plain.headers.get_all("Cache-Control") == ["max-age=60"]


def test_bodies_over_the_limit_are_refused_before_they_are_read(start_upstream, start_balancer):
    web = start_upstream(web_app)
    balancer = start_balancer([web])
    (limit,) = re.findall(r"client_max_body_size\s+(\d+)m;", directives(NGINX_CONF.read_text()))
    connection = http.client.HTTPConnection("127.0.0.1", balancer.port, timeout=10)
    connection.putrequest("POST", "/api/v1/photos/")
    connection.putheader("Content-Length", str(int(limit) * 1024 * 1024 + 1))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()
    assert web.requests == []


def test_load_balancer_health_endpoint(start_upstream, start_balancer):
    web = start_upstream(web_app)
    balancer = start_balancer([web])
    assert balancer.request("GET", "/nginx-health").status == 200
    assert web.requests == []
