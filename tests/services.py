"""Which real servers the tests can reach, and what to do when one is missing.

A test that needs a server it cannot reach reports itself skipped with the reason, unless
``PINSTABLR_REQUIRE_SERVICES=1`` (CI), where a missing server fails the run instead.
"""

from __future__ import annotations

import os
import socket

import pytest

DEFAULT_URLS = {
    "redis": "redis://127.0.0.1:6379/15",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}
ENV_NAMES = {"redis": "PINSTABLR_TEST_REDIS_URL", "rabbitmq": "PINSTABLR_TEST_BROKER_URL"}


def services_required() -> bool:
    return os.environ.get("PINSTABLR_REQUIRE_SERVICES", "") not in ("", "0", "false")


def missing(reason: str) -> None:
    """Skip the test, or fail it when services are required."""
    if services_required():
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str) -> str:
    """The URL of a reachable ``name`` server, or skip/fail."""
    from urllib.parse import urlsplit

    url = os.environ.get(ENV_NAMES[name], DEFAULT_URLS[name])
    parts = urlsplit(url)
    if not port_open(parts.hostname or "127.0.0.1", parts.port or 0):
        missing(f"{name} is not reachable at {parts.hostname}:{parts.port}")
    return url


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_cache(url: str) -> dict[str, dict[str, object]]:
    """CACHES for a test that uses a real Redis, configured as production does."""
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.3,
                "SOCKET_TIMEOUT": 0.3,
            },
        }
    }
