"""What the product calls: ``variant_for(request, key)`` and ``conversion_record(...)``.

A request remembers its assignments (asking twice costs nothing and logs one exposure) and
the exposures and events it produced; ``ExperimentsMiddleware`` hands those to the batch
buffer once the response is ready, and gives a signed-out visitor a unit cookie the first
time one is needed. No database query happens here once the live experiments are warm.

Exposure is logged when the code asks for a variant it is about to use, and only for units
that are really in the experiment: QA overrides and people outside the traffic share are
never counted.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from . import snapshot
from .bucketing import ExperimentSpec, Viewer, assign
from .buffer import EventRecord, ExposureRecord
from .models import Experiment

UNIT_COOKIE = "pinstablr_unit"
UNIT_COOKIE_SALT = "pinstablr.experiments.unit"
UNIT_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
# Staff QA: /?force_variant=home-feed-layout:list,other-key:variant
FORCE_PARAM = "force_variant"
STATE_ATTR = "_pinstablr_experiments"
ANONYMOUS_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Assignment:
    """The variant a request should show. ``str()`` is the variant's key."""

    experiment: str
    variant: str
    config: dict[str, Any] = field(default_factory=dict)
    # Counted in the results (False: not running, not eligible, outside traffic, or forced).
    in_experiment: bool = False
    forced: bool = False

    def __str__(self) -> str:
        return self.variant

    @property
    def key(self) -> str:
        return self.variant


@dataclass
class RequestExperiments:
    assignments: dict[str, Assignment] = field(default_factory=dict)
    exposures: list[ExposureRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    # Assigned but not yet shown (asked for with expose=False).
    unexposed: dict[str, ExposureRecord] = field(default_factory=dict)
    anonymous_id: str | None = None
    new_anonymous_id: bool = False


def _http_request(request: Any) -> HttpRequest:
    """The Django request behind a DRF one (state must live where the middleware sees it)."""
    return getattr(request, "_request", request)


def request_experiments(request: Any) -> RequestExperiments:
    http = _http_request(request)
    state = getattr(http, STATE_ATTR, None)
    if state is None:
        state = RequestExperiments()
        setattr(http, STATE_ATTR, state)
    return state


def viewer_for(request: Any) -> Viewer:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Viewer()
    joined = getattr(user, "date_joined", None)
    return Viewer(
        user_id=user.pk,
        is_staff=bool(user.is_staff),
        joined_at=joined.timestamp() if joined is not None else None,
    )


def unit_for(request: Any, *, create: bool) -> str | None:
    """``u<user id>`` when signed in, else ``a<anonymous id>`` from the signed cookie.

    With ``create``, a visitor without the cookie gets a new id (and the cookie with the
    response); without it, such a visitor has no unit.
    """
    viewer = viewer_for(request)
    if viewer.signed_in:
        return f"u{viewer.user_id}"
    state = request_experiments(request)
    if state.anonymous_id is None:
        http = _http_request(request)
        value = http.get_signed_cookie(UNIT_COOKIE, default=None, salt=UNIT_COOKIE_SALT)
        if value and ANONYMOUS_ID.match(value):
            state.anonymous_id = value
        elif create:
            state.anonymous_id = secrets.token_hex(16)
            state.new_anonymous_id = True
    return f"a{state.anonymous_id}" if state.anonymous_id else None


def _forced_variant(spec: ExperimentSpec, request: Any, viewer: Viewer) -> str | None:
    if viewer.user_id is not None and viewer.user_id in spec.forced:
        return spec.forced[viewer.user_id]
    if viewer.is_staff:
        http = _http_request(request)
        for pair in http.GET.get(FORCE_PARAM, "").split(","):
            key, _, variant = pair.partition(":")
            if key == spec.key and spec.variant(variant) is not None:
                return variant
    return None


def control_for(key: str, *, default: str = "control") -> Assignment:
    """The control of ``key`` without assigning anyone (or ``default`` if it is unknown)."""
    spec = snapshot.live_experiments().get(key)
    control = spec.control if spec is not None else None
    if control is None:
        return Assignment(experiment=key, variant=default)
    return Assignment(experiment=key, variant=control.key, config=dict(control.config))


def variant_for(
    request: Any, key: str, *, default: str = "control", expose: bool = True
) -> Assignment:
    """The variant of experiment ``key`` this request should show.

    Not running, not in the audience or outside the traffic share: the control (or
    ``default`` for an unknown experiment), counted nowhere. With ``expose`` (the variant is
    about to be shown) a unit in the experiment is logged as exposed, once per request; the
    buffer keeps only its first exposure ever.
    """
    state = request_experiments(request)
    if key not in state.assignments:
        state.assignments[key], exposure = _decide(request, key, default=default)
        if exposure is not None:
            state.unexposed[key] = exposure
    if expose and key in state.unexposed:
        state.exposures.append(state.unexposed.pop(key))
    return state.assignments[key]


def _decide(request: Any, key: str, *, default: str) -> tuple[Assignment, ExposureRecord | None]:
    spec = snapshot.live_experiments().get(key)
    if spec is None:
        return Assignment(experiment=key, variant=default), None
    viewer = viewer_for(request)
    forced = _forced_variant(spec, request, viewer)
    if forced is not None:
        chosen = spec.variant(forced)
        assert chosen is not None
        return Assignment(key, chosen.key, dict(chosen.config), forced=True), None
    admits_unit = spec.status == Experiment.Status.RUNNING and (
        viewer.signed_in or spec.audience == Experiment.Audience.EVERYONE
    )
    unit_id = unit_for(request, create=admits_unit) if admits_unit else None
    now = time.time()
    chosen = assign(spec, unit_id=unit_id, viewer=viewer, now=now)
    if chosen is None or unit_id is None:
        return control_for(key, default=default), None
    exposure = ExposureRecord(
        experiment_id=spec.id,
        variant_id=chosen.id,
        unit_id=unit_id,
        user_id=viewer.user_id,
        at=now,
    )
    return Assignment(key, chosen.key, dict(chosen.config), in_experiment=True), exposure


def conversion_record(request: Any, metric: str, *, value: float = 1.0) -> bool:
    """Record that this request's unit converted on ``metric`` (an events metric).

    False when the visitor has no unit yet (signed out, never assigned): such a visitor was
    never exposed, so the event could not count anyway.
    """
    from .metrics import METRICS

    if metric not in METRICS or METRICS[metric].source != "events":
        raise ValueError(f"{metric!r} is not a metric recorded as events")
    unit_id = unit_for(request, create=False)
    if unit_id is None:
        return False
    request_experiments(request).events.append(
        EventRecord(
            metric=metric,
            unit_id=unit_id,
            user_id=viewer_for(request).user_id,
            value=float(value),
            at=time.time(),
        )
    )
    return True
