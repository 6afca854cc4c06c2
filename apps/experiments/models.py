from django.db import models

from apps.common.models import TimeStampedModel


class Experiment(TimeStampedModel):
    """An A/B experiment. Lives only in the ``experiments`` database (see the router)."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        RUNNING = "running"
        PAUSED = "paused"
        STOPPED = "stopped"
        ARCHIVED = "archived"

    key = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Users are referred to by id: there are no foreign keys across databases.
    created_by_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key
