"""Read-only aliases refuse writes with an error that says what went wrong."""

import pytest
from django.db import connections

from apps.accounts.models import Profile, User
from pinstablr.db.guards import ReadOnlyDatabaseError, first_keyword

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.mark.parametrize("alias", ["reporting", "experiments_read", "replica_1"])
def test_writing_through_a_read_only_alias_fails_clearly(alias):
    user = User.objects.create(username="mira")
    with pytest.raises(ReadOnlyDatabaseError, match=f"'{alias}' database is a read-only copy"):
        Profile.objects.using(alias).filter(user=user).update(bio="changed")
    with (
        pytest.raises(ReadOnlyDatabaseError, match="writes go to 'default'"),
        connections[alias].cursor() as cursor,
    ):
        cursor.execute("DELETE FROM accounts_profile")
    assert Profile.objects.get(user=user).bio == ""


def test_reads_through_a_read_only_alias_work():
    User.objects.create(username="nico")
    assert Profile.objects.using("reporting").filter(user__username="nico").count() == 1


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        ("  insert into x values (1)", "INSERT"),
        ("(SELECT 1) UNION (SELECT 2)", "SELECT"),
        ("\n\tUPDATE t SET a=1", "UPDATE"),
        ("", ""),
    ],
)
def test_first_keyword(sql, keyword):
    assert first_keyword(sql) == keyword
