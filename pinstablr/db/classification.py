"""What every table holds, and so what the query consoles may read: one classification.

Four classes:

    credential  lets someone act as a user or a service: password hashes, sessions, tokens
    personal    identifies or describes a person: e-mail, names, text people wrote
    internal    how Pinstablr is run: grants, the audit log, saved and run SQL, schedules
    reportable  what the marketing and UX consoles may read

Reportable columns are named one by one; every other column of a table takes the table's
class (never reportable), so a column added by a later migration stays unreadable until
someone classifies it here. A table missing from this module cannot be read by any console,
and a test (``tests/pinstablr/db/test_classification.py``) fails until it is classified.

The consoles' access is generated from this module and enforced by the database that owns
the data: on MariaDB a schema of views that carry only reportable columns, readable by the
console accounts (``pinstablr/db/console_schema.py``); on SQLite an authorizer that denies
every other column (``apps/reports/readonly.py``). ``docs/security.md`` shows it as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DataClass(StrEnum):
    CREDENTIAL = "credential"
    PERSONAL = "personal"
    INTERNAL = "internal"
    REPORTABLE = "reportable"


# The two schemas the consoles read: the primary's (through ``reporting`` and
# ``experiments_read``) and the experiments database's.
MAIN = "main"
EXPERIMENTS = "experiments"


@dataclass(frozen=True)
class Table:
    """One table: its class, its reportable columns, and the columns classed otherwise."""

    schema: str
    default: DataClass
    reportable: tuple[str, ...] = ()
    columns: dict[str, DataClass] = field(default_factory=dict)
    why: str = ""

    def __post_init__(self) -> None:
        if self.default is DataClass.REPORTABLE:
            raise ValueError("reportable columns are named one by one, never by default")

    def column_class(self, column: str) -> DataClass:
        """The class of ``column`` (a column not named here takes the table's class)."""
        if column in self.reportable:
            return DataClass.REPORTABLE
        return self.columns.get(column, self.default)


C, P, I = DataClass.CREDENTIAL, DataClass.PERSONAL, DataClass.INTERNAL  # noqa: E741

TABLES: dict[str, Table] = {
    # --- People -------------------------------------------------------------------------
    "accounts_user": Table(
        MAIN,
        P,
        reportable=("id", "date_joined", "last_login", "is_active"),
        columns={"password": C, "is_staff": I, "is_superuser": I},
        why="sign-ups and activity by id; names, e-mail and the password hash never",
    ),
    "accounts_profile": Table(
        MAIN,
        P,
        reportable=("id", "user_id", "created_at", "updated_at"),
        why="display name, bio and avatar are what a person wrote about themselves",
    ),
    "accounts_follow": Table(
        MAIN,
        P,
        reportable=("id", "follower_id", "followee_id", "created_at"),
        why="the follow graph, by id, as every profile page shows it",
    ),
    "accounts_user_groups": Table(MAIN, I, why="team membership: who holds which access"),
    "accounts_user_user_permissions": Table(MAIN, I, why="who holds which access"),
    "auth_group": Table(MAIN, I),
    "auth_group_permissions": Table(MAIN, I),
    "auth_permission": Table(MAIN, I),
    "django_content_type": Table(MAIN, I),
    "django_migrations": Table(MAIN, I),
    "django_session": Table(MAIN, C, why="a session key signs a person in"),
    "accounts_apitoken": Table(MAIN, C, why="a token digest and prefix sign a client in"),
    "django_admin_log": Table(MAIN, I, why="what staff changed, with object names"),
    # --- Photos -------------------------------------------------------------------------
    "photos_photo": Table(
        MAIN,
        I,
        reportable=(
            "id",
            "created_at",
            "updated_at",
            "owner_id",
            "status",
            "source_format",
            "original_bytes",
            "width",
            "height",
            "dominant_color",
            "pipeline_version",
            "processed_at",
            "like_count",
            "comment_count",
            "view_count",
            "hot_score",
            "hidden_at",
        ),
        columns={"caption": P, "hidden_reason": P},
        why="captions are people's words and stay on the site; storage keys, hashes and "
        "moderators' reasons are internal",
    ),
    "photos_rendition": Table(
        MAIN,
        I,
        reportable=("id", "photo_id", "width", "height", "format", "bytes"),
        why="sizes and formats; storage keys would reach files of hidden photos",
    ),
    "photos_like": Table(MAIN, P, reportable=("id", "user_id", "photo_id", "created_at")),
    "photos_comment": Table(
        MAIN,
        P,
        reportable=("id", "created_at", "updated_at", "photo_id", "author_id"),
        why="a comment's text is what a person wrote",
    ),
    "photos_tag": Table(MAIN, P, reportable=("id", "name")),
    "photos_photo_tags": Table(MAIN, P, reportable=("id", "photo_id", "tag_id")),
    # --- Reports: results are read through each report's own grant, never the console --
    "reports_report": Table(
        MAIN,
        I,
        reportable=("id", "key", "name", "description", "is_active", "created_at", "updated_at"),
    ),
    "reports_reportrun": Table(MAIN, I, why="run bookkeeping"),
    "reports_reportrow": Table(
        MAIN, I, why="a report's results are shown to those granted that report only"
    ),
    "reports_savedquery": Table(MAIN, I, why="a shared query's SQL may be withheld"),
    "reports_queryrun": Table(MAIN, I, why="every run's SQL, by whom"),
    "reports_reportuserobjectpermission": Table(MAIN, I, why="object grants"),
    "reports_reportgroupobjectpermission": Table(MAIN, I, why="object grants"),
    "reports_savedqueryuserobjectpermission": Table(MAIN, I, why="object grants"),
    "reports_savedquerygroupobjectpermission": Table(MAIN, I, why="object grants"),
    "guardian_userobjectpermission": Table(MAIN, I, why="object grants"),
    "guardian_groupobjectpermission": Table(MAIN, I, why="object grants"),
    "teams_team": Table(MAIN, I),
    "audit_auditentry": Table(MAIN, I, why="who granted, revoked and moderated what"),
    "django_celery_beat_periodictask": Table(MAIN, I),
    "django_celery_beat_periodictasks": Table(MAIN, I),
    "django_celery_beat_intervalschedule": Table(MAIN, I),
    "django_celery_beat_crontabschedule": Table(MAIN, I),
    "django_celery_beat_solarschedule": Table(MAIN, I),
    "django_celery_beat_clockedschedule": Table(MAIN, I),
    # --- Experiments (their own database) -----------------------------------------------
    "experiments_experiment": Table(
        EXPERIMENTS,
        I,
        reportable=(
            "id",
            "created_at",
            "updated_at",
            "key",
            "name",
            "hypothesis",
            "owning_team_id",
            "status",
            "starts_at",
            "ends_at",
            "started_at",
            "stopped_at",
            "traffic_percent",
            "audience",
            "layer",
            "layer_offset",
            "primary_metric",
            "guardrail_metrics",
            "minimum_detectable_effect",
            "created_by_id",
        ),
        why="the salt decides assignments and stays internal",
    ),
    "experiments_variant": Table(
        EXPERIMENTS,
        I,
        reportable=("id", "experiment_id", "key", "name", "weight", "is_control", "config"),
    ),
    "experiments_forcedvariant": Table(
        EXPERIMENTS, I, why="QA overrides name testers and carry notes about them"
    ),
    "experiments_exposure": Table(
        EXPERIMENTS,
        P,
        reportable=("id", "experiment_id", "variant_id", "unit_id", "user_id", "exposed_at"),
    ),
    "experiments_event": Table(
        EXPERIMENTS,
        P,
        reportable=("id", "metric", "unit_id", "user_id", "value", "occurred_at"),
    ),
    "experiments_experimentresult": Table(
        EXPERIMENTS,
        I,
        reportable=(
            "id",
            "experiment_id",
            "computed_at",
            "exposures",
            "srm_p_value",
            "srm_alarm",
            "data",
        ),
    ),
    # The experiments database keeps its own migration history.
    "experiments.django_migrations": Table(EXPERIMENTS, I),
}


def table_for(schema: str, name: str) -> Table | None:
    """The classification of table ``name`` in ``schema`` (MAIN or EXPERIMENTS), if any."""
    table = TABLES.get(f"{schema}.{name}") or TABLES.get(name)
    return table if table is not None and table.schema == schema else None


def table_name(key: str) -> str:
    """The name in its database: ``experiments.django_migrations`` is ``django_migrations``."""
    return key.rsplit(".", 1)[-1]


def reportable_columns(schema: str) -> dict[str, tuple[str, ...]]:
    """Every table of ``schema`` with at least one reportable column, with those columns."""
    return {
        table_name(key): table.reportable
        for key, table in TABLES.items()
        if table.schema == schema and table.reportable
    }


def is_reportable(schema: str, table: str, column: str) -> bool:
    """Whether the consoles may read ``column`` of ``table`` in ``schema``."""
    classified = table_for(schema, table)
    return classified is not None and column in classified.reportable


def markdown_table() -> str:
    """The classification as the table in ``docs/security.md`` (a test keeps them equal)."""
    lines = [
        "| table | database | class | reportable columns | why |",
        "|---|---|---|---|---|",
    ]
    for key, table in sorted(TABLES.items(), key=lambda item: (item[1].schema, item[0])):
        special = ", ".join(f"{column}: {cls}" for column, cls in table.columns.items())
        data_class = f"{table.default} ({special})" if special else str(table.default)
        reportable = ", ".join(table.reportable) or "none"
        lines.append(
            f"| {table_name(key)} | {table.schema} | {data_class} | {reportable} | {table.why} |"
        )
    return "\n".join(lines)
