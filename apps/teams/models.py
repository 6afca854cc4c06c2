from django.contrib.auth.models import Group
from django.db import models

from apps.common.models import TimeStampedModel

from .purposes import Purpose


class Team(TimeStampedModel):
    """A group of people with one purpose; membership and grants belong to its group."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="team")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["group__name"]
        permissions = [("view_operations", "Can view the topology and health of the service")]

    def __str__(self) -> str:
        return self.group.name
