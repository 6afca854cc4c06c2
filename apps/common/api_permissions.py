"""DRF permission classes for objects granted per object (django-guardian).

DRF's ``DjangoObjectPermissions`` checks nothing for reads: its map has no permission for
GET. Pinstablr's objects (reports, saved queries, experiments) are private by default, so
reading one needs ``view_<model>`` on it: the model-level permission (what the team's job
allows) to reach the endpoint at all, and an object grant for the object itself. DRF checks
object permissions only on single objects; list endpoints filter their queryset through the
app's ``permissions.py`` (guardian's ``get_objects_for_user``), never a page of everything.

An object the user may not read is a 404, like one that does not exist; an action on an
object they may read but not change is a 403.
"""

from __future__ import annotations

from rest_framework.permissions import DjangoObjectPermissions

VIEW = "%(app_label)s.view_%(model_name)s"


class ObjectPermissionsWithView(DjangoObjectPermissions):
    perms_map = {
        **DjangoObjectPermissions.perms_map,
        "GET": [VIEW],
        "OPTIONS": [VIEW],
        "HEAD": [VIEW],
    }
