"""Shared fixtures: media in a temp folder, and servers that tests need or skip without."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services import require_service

# Fixtures for every folder: the real MariaDB topology (one instance for the whole run) and
# the browser tests' pages.
pytest_plugins = ["tests.topology", "tests.browser.harness"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # The photo storages too (their locations are read when settings load): no test writes
    # into the working copy's var/.
    settings.STORAGES = {
        **settings.STORAGES,
        "originals": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "allow_overwrite": True},
        },
        "renditions": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": tmp_path / "media" / "r",
                "base_url": "/media/r/",
                "allow_overwrite": True,
            },
        },
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_replica_pool():
    """Each test starts with a pool that has seen no failures."""
    from pinstablr.db.replicas import set_pool

    set_pool(None)
    yield
    set_pool(None)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_service("redis")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    return require_service("rabbitmq")
