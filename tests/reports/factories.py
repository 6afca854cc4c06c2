"""Factories for the reports app."""

from __future__ import annotations

import factory

from apps.reports.definitions import REGISTRY
from apps.reports.models import Report, SavedQuery
from tests.factories import UserFactory


class ReportFactory(factory.django.DjangoModelFactory):
    """A report row for a definition in code (``signups`` unless ``key`` says otherwise)."""

    class Meta:
        model = Report
        django_get_or_create = ("key",)

    key = "signups"
    name = factory.LazyAttribute(lambda r: REGISTRY[r.key].name if r.key in REGISTRY else r.key)
    description = factory.LazyAttribute(
        lambda r: REGISTRY[r.key].description if r.key in REGISTRY else ""
    )


class SavedQueryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedQuery

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Saved query {n}")
    description = "Photos per status."
    target = SavedQuery.Target.REPORTING
    sql = "SELECT status, COUNT(*) AS photos FROM photos_photo GROUP BY status ORDER BY status"
