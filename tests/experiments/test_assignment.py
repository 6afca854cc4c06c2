"""Deterministic, sticky assignment: the split follows the weights, a unit never moves."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest
from scipy import stats as reference

from apps.experiments.bucketing import (
    BUCKETS,
    Viewer,
    assign,
    bucket,
    in_traffic,
    pick_variant,
)
from tests.experiments.specs import spec

SEED = 20261126
NOW = 1_800_000_000.0
SIGNED_IN = Viewer(user_id=7, joined_at=NOW - 86_400)


def unit_ids(count: int, seed: int = SEED) -> list[str]:
    rng = random.Random(seed)
    return [f"a{rng.getrandbits(128):032x}" for _ in range(count)]


def test_the_bucket_of_a_unit_never_changes_between_processes_or_releases():
    # Pinned values: a change to the hash would silently move every person between variants.
    assert 0 <= bucket("any", "unit") < BUCKETS
    assert (bucket("k:s", "u1"), bucket("k:s", "u2"), bucket("k:s", "a" + "0" * 32)) == (
        PINNED["u1"],
        PINNED["u2"],
        PINNED["anonymous"],
    )


PINNED = {"u1": 4787, "u2": 9397, "anonymous": 8207}


@pytest.mark.parametrize("weights", [(50, 50), (50, 30, 20), (10, 90)])
def test_for_100000_units_the_split_matches_the_weights(weights):
    experiment = spec(weights=weights)
    counts = Counter(pick_variant(experiment, unit).key for unit in unit_ids(100_000))
    observed = [counts[f"v{i}"] for i in range(len(weights))]
    expected = [100_000 * w / sum(weights) for w in weights]
    assert reference.chisquare(observed, expected).pvalue > 0.001, (observed, expected)
    # And not by luck of a lenient test: each share is within half a point of its weight.
    for seen, weight in zip(observed, weights, strict=True):
        assert abs(seen / 1000 - weight) < 0.5


def test_a_biased_split_is_caught_by_the_same_check():
    # The check above can fail: a 50/50 experiment judged against 55/45 weights.
    experiment = spec(weights=(50, 50))
    counts = Counter(pick_variant(experiment, unit).key for unit in unit_ids(100_000))
    assert reference.chisquare([counts["v0"], counts["v1"]], [55_000, 45_000]).pvalue < 1e-6


def test_the_same_unit_always_gets_the_same_variant():
    experiment = spec(weights=(34, 33, 33))
    units = unit_ids(2000) + [f"u{i}" for i in range(2000)]
    first = [assign(experiment, unit_id=u, viewer=SIGNED_IN, now=NOW) for u in units]
    again = [
        assign(replace(experiment), unit_id=u, viewer=SIGNED_IN, now=NOW + 3600) for u in units
    ]
    assert first == again
    assert len({v.key for v in first if v}) == 3


def test_another_salt_reshuffles_people():
    units = unit_ids(2000)
    a = [pick_variant(spec(salt="one"), u).key for u in units]
    b = [pick_variant(spec(salt="two"), u).key for u in units]
    assert 0.4 < sum(x != y for x, y in zip(a, b, strict=True)) / len(units) < 0.6


def test_raising_the_traffic_keeps_everyone_already_in_in_their_variant():
    units = unit_ids(20_000)
    low, high = spec(traffic_percent=20), spec(traffic_percent=50)
    before = {u: assign(low, unit_id=u, viewer=SIGNED_IN, now=NOW) for u in units}
    after = {u: assign(high, unit_id=u, viewer=SIGNED_IN, now=NOW) for u in units}
    kept_in = [u for u, v in before.items() if v is not None]
    assert all(after[u] == before[u] for u in kept_in)
    assert 0.18 < len(kept_in) / len(units) < 0.22
    assert 0.48 < sum(v is not None for v in after.values()) / len(units) < 0.52


def test_within_the_traffic_share_the_split_still_matches_the_weights():
    experiment = spec(weights=(70, 30), traffic_percent=25)
    chosen = [assign(experiment, unit_id=u, viewer=SIGNED_IN, now=NOW) for u in unit_ids(100_000)]
    counts = Counter(v.key for v in chosen if v is not None)
    total = counts["v0"] + counts["v1"]
    assert (
        reference.chisquare([counts["v0"], counts["v1"]], [total * 0.7, total * 0.3]).pvalue > 0.001
    )


def test_experiments_in_one_layer_never_share_a_unit():
    first = spec(key="feed-a", layer="home", layer_offset=0, traffic_percent=40)
    second = spec(key="feed-b", layer="home", layer_offset=4000, traffic_percent=60)
    units = unit_ids(20_000)
    in_first = {u for u in units if in_traffic(first, u)}
    in_second = {u for u in units if in_traffic(second, u)}
    assert not in_first & in_second
    assert len(in_first | in_second) == len(units)  # together they cover the whole layer
    unlayered = spec(key="other", traffic_percent=50)
    overlap = sum(1 for u in in_first if in_traffic(unlayered, u)) / len(in_first)
    assert 0.45 < overlap < 0.55  # experiments outside the layer are independent of it


@pytest.mark.parametrize(
    ("audience", "viewer", "admitted"),
    [
        ("everyone", Viewer(), True),
        ("signed_in", Viewer(), False),
        ("signed_in", SIGNED_IN, True),
        ("staff", SIGNED_IN, False),
        ("staff", Viewer(user_id=1, is_staff=True), True),
        ("new_users", Viewer(user_id=1, joined_at=NOW - 10), True),  # joined after the start
        ("new_users", Viewer(user_id=1, joined_at=NOW - 500), False),  # joined before it
        ("new_users", Viewer(), False),
    ],
)
def test_the_audience_rule_decides_who_may_be_in(audience, viewer, admitted):
    experiment = spec(audience=audience, started_at=NOW - 100)
    assert (assign(experiment, unit_id="u1", viewer=viewer, now=NOW) is not None) is admitted


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "draft"},
        {"status": "paused"},
        {"status": "stopped"},
        {"starts_at": NOW + 60},
        {"ends_at": NOW - 60},
    ],
)
def test_outside_its_running_window_nobody_is_assigned(fields):
    assert assign(spec(**fields), unit_id="u1", viewer=SIGNED_IN, now=NOW) is None


def test_without_a_unit_nobody_is_assigned():
    assert assign(spec(), unit_id=None, viewer=Viewer(), now=NOW) is None
