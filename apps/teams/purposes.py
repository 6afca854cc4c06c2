"""What each kind of team is for, as the model-level permissions its members get.

Model-level permissions say what a team's job allows (marketing reads reports); object
grants (django-guardian) say on which objects (this report, that experiment). A team gets
its purpose's permissions when it is created or its purpose changes; admins may add more.
"""

from __future__ import annotations

from django.db import models


class Purpose(models.TextChoices):
    MARKETING = "marketing", "Marketing: reports, dashboards and the query console"
    UX = "ux", "UX: experiments and the analysis console"
    OPS = "ops", "Operations: topology, health, moderation and the audit log"


PURPOSE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Purpose.MARKETING: (
        "reports.view_report",
        "reports.view_savedquery",
        "reports.add_savedquery",
        "reports.use_query_console",
    ),
    Purpose.UX: (
        "experiments.view_experiment",
        "experiments.add_experiment",
        "experiments.use_analysis_console",
    ),
    Purpose.OPS: (
        "photos.view_photo",
        "photos.moderate_photo",
        "teams.view_operations",
        "audit.view_auditentry",
    ),
}

# Their work happens in the Django admin, so joining such a team makes a user staff.
STAFF_PURPOSES = frozenset({Purpose.UX, Purpose.OPS})
