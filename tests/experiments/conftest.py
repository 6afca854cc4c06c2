"""Each test starts with no live experiments remembered and an empty exposure buffer."""

from __future__ import annotations

import pytest

from apps.experiments import buffer, snapshot


@pytest.fixture(autouse=True)
def _fresh_experiment_state():
    snapshot.forget_local()
    buffer.reset()
    yield
    snapshot.forget_local()
    buffer.reset()
