"""The three teams Pinstablr starts with, each with its purpose's permissions.

Permissions are normally created after migrations run; the ones named here are created now
(with their content types) so the teams have them from the first migrate, whichever order
the apps migrate in.
"""

from django.db import migrations

TEAMS = {
    "marketing": ("marketing", "Reads reports and dashboards; runs the query console."),
    "ux": ("ux", "Runs experiments from the admin; reads results and the analysis console."),
    "ops": ("ops", "Runs production: topology, health, moderation and the audit log."),
}

# A copy, as migrations must not import code that will change later.
PURPOSE_PERMISSIONS = {
    "marketing": [
        ("reports", "report", "view_report", "Can view report"),
        ("reports", "savedquery", "view_savedquery", "Can view saved query"),
        ("reports", "savedquery", "add_savedquery", "Can add saved query"),
        ("reports", "savedquery", "use_query_console", "Can run queries in the console"),
    ],
    "ux": [
        ("experiments", "experiment", "view_experiment", "Can view experiment"),
        ("experiments", "experiment", "add_experiment", "Can add experiment"),
        ("experiments", "experiment", "use_analysis_console", "Can use the analysis console"),
    ],
    "ops": [
        ("photos", "photo", "view_photo", "Can view photo"),
        ("photos", "photo", "moderate_photo", "Can hide and restore any photo"),
        ("teams", "team", "view_operations", "Can view the topology and health of the service"),
        ("audit", "auditentry", "view_auditentry", "Can view audit entry"),
    ],
}


def create_teams(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Team = apps.get_model("teams", "Team")
    for name, (purpose, description) in TEAMS.items():
        group, _ = Group.objects.using(db).get_or_create(name=name)
        Team.objects.using(db).get_or_create(
            group=group, defaults={"purpose": purpose, "description": description}
        )
        for app_label, model, codename, title in PURPOSE_PERMISSIONS[purpose]:
            content_type, _ = ContentType.objects.using(db).get_or_create(
                app_label=app_label, model=model
            )
            permission, _ = Permission.objects.using(db).get_or_create(
                content_type=content_type, codename=codename, defaults={"name": title}
            )
            group.permissions.add(permission)


def remove_teams(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(db).filter(name__in=TEAMS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_teams, remove_teams)]
