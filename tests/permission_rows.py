"""Rows of the permission matrix (``tests/test_permission_matrix.py``).

Each app that adds non-public routes lists them in ``tests/<app>/matrix_rows.py`` as
``ROWS`` (and routes anyone may use as ``PUBLIC``); the matrix collects them.

Roles: ``anonymous``; ``user`` (signed in, no team, a stranger to the objects); ``owner`` (of
the photo); ``author`` (of the comment, not the photo's owner); ``marketing`` (member of the
``marketing`` team, which is granted the report and the shared saved query); ``marketing_ungranted``
(member of another marketing team, granted nothing); ``ux_owner`` (member of the UX team that
owns the experiment); ``ux_other`` (member of another UX team); ``ops``; ``admin`` (superuser).
A role missing from ``expected`` is not checked for that row.

A ``matrix_rows`` module may define ``populate_world(world)`` to add its objects (and grants)
to the world every row is checked against. The world is built once: each case runs in a
transaction rolled back after it, with a copy of the files the world wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    expected: dict[str, int]  # role -> status
    data: dict | None = None
    # URL kwargs from the matrix's world (attributes: photo, comment, report, saved_query,
    # experiment, plus the users by role name); None for routes without arguments.
    kwargs: Callable[[Any], dict[str, Any]] | None = None
    # Request data that needs the world's objects (instead of ``data``).
    data_from: Callable[[Any], dict[str, Any]] | None = None
