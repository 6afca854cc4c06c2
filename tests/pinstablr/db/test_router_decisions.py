"""The router's decision table: model x operation x context -> alias.

Each row names a context (what the request or task has done, the replicas' health) and the
alias the router must choose. The replica pool is real; only its probe is scripted, so the
health rules (cooldown, lag bound, positions) are exercised as they run in production.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import OperationalError, connections
from django.db.models import Model
from guardian.models import UserObjectPermission

from apps.accounts.models import ApiToken, Profile, User
from apps.experiments.models import Experiment
from pinstablr.db.replicas import Probe, ReplicaPool, set_pool
from pinstablr.db.router import TopologyRouter
from pinstablr.db.state import RoutingState, routing_scope

router = TopologyRouter()
HEALTHY = Probe(lag=0.0, position="0-1-10")


@dataclass
class Replicas:
    """Scripted replica readings: a Probe, or an exception the probe raises."""

    readings: dict[str, Probe | Exception] = field(
        default_factory=lambda: {"replica_1": HEALTHY, "replica_2": HEALTHY}
    )
    refuse_connections: set[str] = field(default_factory=set)

    def probe(self, alias: str) -> Probe:
        reading = self.readings[alias]
        if isinstance(reading, Exception):
            raise reading
        return reading

    def connect(self, alias: str) -> None:
        if alias in self.refuse_connections:
            raise OperationalError(f"Can't connect to server on '{alias}'")

    def pool(self) -> ReplicaPool:
        return ReplicaPool(
            list(self.readings), probe=self.probe, connect=self.connect, max_lag_seconds=30
        )


@dataclass(frozen=True)
class Context:
    name: str
    state: Callable[[], RoutingState] = RoutingState
    replicas: Callable[[], Replicas] = Replicas
    in_atomic_block: bool = False


def in_future() -> float:
    return time.time() + 60


def in_past() -> float:
    return time.time() - 60


one_replica = {"replica_1": HEALTHY}
CONTEXTS = {
    c.name: c
    for c in [
        Context("plain request", replicas=lambda: Replicas(dict(one_replica))),
        Context("inside transaction.atomic", in_atomic_block=True),
        Context("after a write in this request", state=lambda: RoutingState(wrote=True)),
        Context("unsafe HTTP method", state=lambda: RoutingState(primary_only=True)),
        Context(
            "recent write, no positions (SQLite)",
            state=lambda: RoutingState(pinned_until=in_future()),
        ),
        Context(
            "old write, no positions (SQLite)",
            state=lambda: RoutingState(pinned_until=in_past()),
            replicas=lambda: Replicas(dict(one_replica)),
        ),
        Context(
            "write position not yet applied",
            state=lambda: RoutingState(required_position="0-1-11", pinned_until=in_future()),
        ),
        Context(
            "write position applied",
            state=lambda: RoutingState(required_position="0-1-10", pinned_until=in_future()),
            replicas=lambda: Replicas(dict(one_replica)),
        ),
        Context(
            "only replica refuses connections",
            replicas=lambda: Replicas(dict(one_replica), refuse_connections={"replica_1"}),
        ),
        Context(
            "only replica errors on probe",
            replicas=lambda: Replicas({"replica_1": OperationalError("server has gone away")}),
        ),
        Context(
            "only replica lagging past the bound",
            replicas=lambda: Replicas({"replica_1": Probe(lag=120.0, position="0-1-10")}),
        ),
        Context(
            "only replica not applying (SQL thread stopped)",
            replicas=lambda: Replicas({"replica_1": Probe(lag=None, position="0-1-10")}),
        ),
        Context(
            "one of two replicas down",
            replicas=lambda: Replicas(
                {"replica_1": OperationalError("refused"), "replica_2": HEALTHY}
            ),
        ),
        Context(
            "one of two replicas lagging",
            replicas=lambda: Replicas(
                {"replica_1": HEALTHY, "replica_2": Probe(lag=99.0, position="0-1-10")}
            ),
        ),
        Context(
            "replica failed earlier in this request",
            state=lambda: RoutingState(failed_replicas={"replica_1"}),
        ),
        Context(
            "replica already chosen for this request",
            state=lambda: RoutingState(chosen_replica="replica_2"),
        ),
    ]
}

ORDINARY = [Profile]
PRIMARY_ONLY = [
    User,
    Group,
    Permission,
    Session,
    ContentType,
    LogEntry,
    UserObjectPermission,
    ApiToken,
]
EXPERIMENTS = [Experiment]

# context -> where an ordinary read goes
READ_DECISIONS = {
    "plain request": "replica_1",
    "inside transaction.atomic": "default",
    "after a write in this request": "default",
    "unsafe HTTP method": "default",
    "recent write, no positions (SQLite)": "default",
    "old write, no positions (SQLite)": "replica_1",
    "write position not yet applied": "default",
    "write position applied": "replica_1",
    "only replica refuses connections": "default",
    "only replica errors on probe": "default",
    "only replica lagging past the bound": "default",
    "only replica not applying (SQL thread stopped)": "default",
    "one of two replicas down": "replica_2",
    "one of two replicas lagging": "replica_1",
    "replica failed earlier in this request": "replica_2",
    "replica already chosen for this request": "replica_2",
}


def route(model: type[Model], operation: str, context: Context, monkeypatch) -> str:
    set_pool(context.replicas().pool())
    monkeypatch.setattr(connections["default"], "in_atomic_block", context.in_atomic_block)
    with routing_scope(context.state()):
        if operation == "read":
            return router.db_for_read(model)
        return router.db_for_write(model)


def test_every_context_has_a_read_decision():
    assert set(READ_DECISIONS) == set(CONTEXTS)


@pytest.mark.parametrize("context_name", list(CONTEXTS))
@pytest.mark.parametrize("model", ORDINARY, ids=lambda m: m._meta.label)
def test_ordinary_reads(model, context_name, monkeypatch):
    context = CONTEXTS[context_name]
    assert route(model, "read", context, monkeypatch) == READ_DECISIONS[context_name]


@pytest.mark.parametrize("context_name", list(CONTEXTS))
@pytest.mark.parametrize("model", PRIMARY_ONLY, ids=lambda m: m._meta.label)
def test_auth_sessions_admin_log_tokens_and_guardian_read_the_primary(
    model, context_name, monkeypatch
):
    assert route(model, "read", CONTEXTS[context_name], monkeypatch) == "default"


@pytest.mark.parametrize("context_name", list(CONTEXTS))
@pytest.mark.parametrize("operation", ["read", "write"])
def test_experiments_only_ever_use_the_experiments_database(operation, context_name, monkeypatch):
    assert route(Experiment, operation, CONTEXTS[context_name], monkeypatch) == "experiments"


@pytest.mark.parametrize("context_name", list(CONTEXTS))
@pytest.mark.parametrize("model", ORDINARY + PRIMARY_ONLY, ids=lambda m: m._meta.label)
def test_writes_go_to_the_primary(model, context_name, monkeypatch):
    assert route(model, "write", CONTEXTS[context_name], monkeypatch) == "default"


def test_a_write_pins_the_rest_of_the_request_to_the_primary(monkeypatch):
    set_pool(Replicas(dict(one_replica)).pool())
    with routing_scope():
        assert router.db_for_read(Profile) == "replica_1"
        router.db_for_write(Profile)
        assert router.db_for_read(Profile) == "default"


def test_a_replica_taken_out_comes_back_after_the_cooldown():
    now = [0.0]
    replicas = Replicas({"replica_1": OperationalError("refused")})
    pool = ReplicaPool(
        ["replica_1"], probe=replicas.probe, connect=replicas.connect, clock=lambda: now[0],
        cooldown_seconds=10, check_seconds=1,
    )  # fmt: skip
    assert pool.pick(None, exclude=set()) is None
    replicas.readings["replica_1"] = HEALTHY
    now[0] = 9.0
    assert pool.pick(None, exclude=set()) is None, "still cooling down"
    now[0] = 10.5
    assert pool.pick(None, exclude=set()) == "replica_1"


@pytest.mark.parametrize(
    ("app_label", "alias", "allowed"),
    [
        ("accounts", "default", True),
        ("auth", "default", True),
        ("guardian", "default", True),
        ("experiments", "default", False),
        ("experiments", "experiments", True),
        ("accounts", "experiments", False),
        ("contenttypes", "experiments", False),
        ("accounts", "replica_1", False),
        ("experiments", "replica_1", False),
        ("accounts", "reporting", False),
        ("experiments", "experiments_read", False),
        ("accounts", "experiments_read", False),
    ],
)
def test_migrations(app_label, alias, allowed):
    assert router.allow_migrate(alias, app_label) is allowed


def _on(alias: str, model: type[Model]) -> Model:
    obj = model()
    obj._state.db = alias
    return obj


@pytest.mark.parametrize(
    ("first", "second", "allowed"),
    [
        ("default", "default", True),
        ("default", "replica_1", True),
        ("replica_1", "reporting", True),
        ("experiments", "experiments", True),
        ("default", "experiments", False),
        ("replica_1", "experiments", False),
        ("experiments_read", "experiments", False),
    ],
)
def test_relations_never_cross_into_the_experiments_database(first, second, allowed):
    assert router.allow_relation(_on(first, Profile), _on(second, Profile)) is allowed
