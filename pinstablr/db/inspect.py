"""A snapshot of every database alias: role, reachability and replication lag."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

from .config import EXPERIMENTS, EXPERIMENTS_READ, PRIMARY, REPORTING, replica_aliases
from .replicas import probe_replica

ROLES = {
    PRIMARY: "primary",
    REPORTING: "reporting replica",
    EXPERIMENTS: "experiments (read-write)",
    EXPERIMENTS_READ: "experiments-read replica",
}


@dataclass(frozen=True)
class AliasReport:
    alias: str
    role: str
    reachable: bool
    lag_seconds: float | None
    position: str | None
    error: str


def role_of(alias: str) -> str:
    return ROLES.get(alias, "replica")


def inspect_alias(alias: str) -> AliasReport:
    """Connect to ``alias`` and read its lag and position if it replicates."""
    replicating = alias not in (PRIMARY, EXPERIMENTS)
    try:
        if replicating:
            probe = probe_replica(alias)
            lag, position = probe.lag, probe.position
        else:
            connections[alias].ensure_connection()
            lag, position = None, None
        return AliasReport(alias, role_of(alias), True, lag, position, "")
    except DatabaseError as error:
        return AliasReport(alias, role_of(alias), False, None, None, str(error)[:200])
    finally:
        connections[alias].close()


def inspect_topology() -> list[AliasReport]:
    """One report per configured alias: primary, replicas, reporting, experiments pair."""
    aliases = [PRIMARY, *replica_aliases(settings.DATABASES), REPORTING, EXPERIMENTS_READ]
    return [inspect_alias(alias) for alias in [*aliases, EXPERIMENTS]]
