import pytest

from pinstablr.db.positions import has_applied, parse


def test_parse_keeps_the_highest_sequence_per_domain():
    assert parse("0-1-25,1-2-3,0-3-7") == {0: 25, 1: 3}


@pytest.mark.parametrize("garbage", ["", None, "abc", "0-1", "0-x-3", "1-2-3-4"])
def test_parse_ignores_malformed_positions(garbage):
    assert parse(garbage) == {}


@pytest.mark.parametrize(
    ("applied", "required", "expected"),
    [
        ("0-1-10", "0-1-10", True),
        ("0-1-11", "0-1-10", True),
        ("0-1-9", "0-1-10", False),
        ("0-1-10", "0-1-10,1-1-1", False),
        ("0-1-10,1-1-5", "0-1-10,1-1-1", True),
        (None, "0-1-1", False),
        ("0-1-1", None, True),
        # The server id changes after a failover; the sequence within a domain still counts.
        ("0-2-12", "0-1-10", True),
    ],
)
def test_has_applied(applied, required, expected):
    assert has_applied(applied, required) is expected
