"""Shared fixtures: media in a temp folder, and servers that tests need or skip without."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.services import require_service

# Fixtures for every folder: the real MariaDB topology (one instance for the whole run) and
# the browser tests' pages.
pytest_plugins = ["tests.topology", "tests.browser.harness"]


def media_settings(root: Path) -> dict[str, Any]:
    """``MEDIA_ROOT`` and the photo storages, all in folders under ``root``."""
    from django.conf import settings

    return {
        "MEDIA_ROOT": root / "media",
        "STORAGES": {
            **settings.STORAGES,
            "originals": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": root / "private", "allow_overwrite": True},
            },
            "renditions": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {
                    "location": root / "media" / "r",
                    "base_url": "/media/r/",
                    "allow_overwrite": True,
                },
            },
        },
    }


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path: Path) -> None:
    # Media and the photo storages (their locations are read when settings load) in the
    # test's own folder: no test writes into the working copy's var/.
    for name, value in media_settings(tmp_path).items():
        setattr(settings, name, value)


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
