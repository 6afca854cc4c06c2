"""The data classification covers every table, and the console schemas follow it exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps

from pinstablr.db import classification
from pinstablr.db.classification import EXPERIMENTS, MAIN, DataClass, Table
from pinstablr.db.console_schema import (
    ConsoleSchemaPlan,
    console_access_problems,
    plan_for,
    schema_sql,
)
from pinstablr.db.router import EXPERIMENTS_APPS


def schema_tables() -> dict[str, dict[str, list[str]]]:
    """Every table the migrations create, with its columns, by classification schema."""
    tables: dict[str, dict[str, list[str]]] = {MAIN: {}, EXPERIMENTS: {}}
    for model in apps.get_models(include_auto_created=True):
        schema = EXPERIMENTS if model._meta.app_label in EXPERIMENTS_APPS else MAIN
        columns = [str(field.column) for field in model._meta.local_fields]
        tables[schema].setdefault(model._meta.db_table, []).extend(columns)
    for schema in tables:
        tables[schema]["django_migrations"] = ["id", "app", "name", "applied"]
    return tables


def test_every_table_is_classified_in_its_own_schema():
    for schema, tables in schema_tables().items():
        missing = [name for name in tables if classification.table_for(schema, name) is None]
        assert not missing, f"classify these {schema} tables in pinstablr/db/classification.py"


def test_every_classified_table_and_reportable_column_exists():
    tables = schema_tables()
    for key, table in classification.TABLES.items():
        name = classification.table_name(key)
        assert name in tables[table.schema], f"{key} is classified but no migration makes it"
        unknown = set(table.reportable) - set(tables[table.schema][name])
        assert not unknown, f"{key}: reportable columns that do not exist: {unknown}"
        assert set(table.columns) <= set(tables[table.schema][name]), key


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("accounts_user", "password"),
        ("accounts_user", "email"),
        ("accounts_user", "username"),
        ("accounts_user", "first_name"),
        ("accounts_user", "last_name"),
        ("accounts_apitoken", "digest"),
        ("accounts_apitoken", "user_id"),
        ("django_session", "session_key"),
        ("django_session", "session_data"),
        ("reports_savedquery", "sql"),
        ("reports_queryrun", "sql"),
        ("reports_reportrow", "values"),
        ("audit_auditentry", "detail"),
        ("guardian_userobjectpermission", "object_pk"),
        ("reports_reportgroupobjectpermission", "group_id"),
        ("photos_photo", "caption"),
        ("photos_rendition", "storage_key"),
        ("photos_comment", "text"),
        ("accounts_profile", "bio"),
    ],
)
def test_credentials_personal_data_and_grants_are_never_reportable(table, column):
    assert not classification.is_reportable(MAIN, table, column)


def test_the_experiment_salt_and_qa_notes_are_not_reportable():
    assert not classification.is_reportable(EXPERIMENTS, "experiments_experiment", "salt")
    assert not classification.is_reportable(EXPERIMENTS, "experiments_forcedvariant", "note")
    assert classification.is_reportable(EXPERIMENTS, "experiments_exposure", "variant_id")
    # The experiments database's tables are not the primary's, and the reverse.
    assert not classification.is_reportable(MAIN, "experiments_exposure", "variant_id")
    assert not classification.is_reportable(EXPERIMENTS, "photos_photo", "id")


def test_a_column_is_only_reportable_by_name():
    with pytest.raises(ValueError, match="one by one"):
        Table(MAIN, DataClass.REPORTABLE)
    table = classification.TABLES["accounts_user"]
    assert table.column_class("a_column_added_later") is DataClass.PERSONAL
    assert table.column_class("password") is DataClass.CREDENTIAL


PLAN = ConsoleSchemaPlan(
    MAIN,
    "pinstablr",
    "pinstablr_console",
    readers=(),
)


def test_the_console_schema_sql_has_only_reportable_columns_and_is_exact():
    plan = plan_for(
        classification=MAIN, base="pinstablr",
        consoles=[{"NAME": "pinstablr_console", "USER": "console", "PASSWORD": "it's"}],
    )  # fmt: skip
    statements = schema_sql(
        plan,
        base_columns={
            "accounts_user": ["id", "password", "email", "date_joined", "is_active"],
            "django_session": ["session_key", "session_data"],
        },
        definer_columns=[("accounts_user", "id"), ("accounts_user", "email")],
        existing_views=["accounts_user", "photos_photo"],
    )
    text = "\n".join(statements)
    assert (
        "GRANT SELECT (`id`, `date_joined`, `is_active`) ON `pinstablr`.`accounts_user` TO "
        "'pinstablr_console_views'@'localhost'"
    ) in text
    assert (
        "VIEW `pinstablr_console`.`accounts_user` AS SELECT `id`, `date_joined`, `is_active`"
        in text
    )
    # What the classification no longer allows is taken back; nothing else is granted.
    assert "REVOKE SELECT (`email`) ON `pinstablr`.`accounts_user`" in text
    assert "DROP VIEW IF EXISTS `pinstablr_console`.`photos_photo`" in text
    assert "django_session" not in text
    assert "password" not in text.replace("IDENTIFIED BY", "")
    assert "IDENTIFIED BY 'it\\'s'" in text
    assert "REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'console'@'%'" in text
    assert "GRANT SELECT ON `pinstablr_console`.* TO 'console'@'%'" in text


def test_a_console_url_on_the_base_schema_is_refused():
    with pytest.raises(ValueError, match="base schema"):
        plan_for(classification=MAIN, base="pinstablr",
                 consoles=[{"NAME": "pinstablr", "USER": "c", "PASSWORD": "p"}])  # fmt: skip


class FakeCursor:
    """What information_schema shows an account, by query."""

    def __init__(self, answers: dict[str, list[tuple]]) -> None:
        self.answers, self.rows = answers, []

    def execute(self, sql: str, params=()) -> None:
        self.rows = next((rows for key, rows in self.answers.items() if key in sql), [])

    def fetchall(self) -> list[tuple]:
        return self.rows


def test_the_access_check_reports_every_excess():
    clean = {
        "USER_PRIVILEGES": [("USAGE",)],
        "SCHEMA_PRIVILEGES": [("pinstablr_console", "SELECT")],
        "information_schema.COLUMNS": [("pinstablr_console", "accounts_user", "id")],
    }
    assert console_access_problems(FakeCursor(clean), MAIN, "pinstablr_console") == []
    widened = {
        "USER_PRIVILEGES": [("USAGE",), ("FILE",)],
        "SCHEMA_PRIVILEGES": [("pinstablr_console", "SELECT"), ("pinstablr", "SELECT")],
        "TABLE_PRIVILEGES": [("pinstablr", "django_session", "SELECT")],
        "COLUMN_PRIVILEGES": [("pinstablr", "accounts_user", "password")],
        "APPLICABLE_ROLES": [("analyst",)],
        "information_schema.COLUMNS": [
            ("pinstablr_console", "accounts_user", "email"),
            ("pinstablr", "accounts_user", "password"),
        ],
    }
    problems = console_access_problems(FakeCursor(widened), MAIN, "pinstablr_console")
    assert problems == [
        "global privilege FILE",
        "SELECT on the schema pinstablr",
        "SELECT on the table pinstablr.django_session",
        "a grant on the column pinstablr.accounts_user.password",
        "the role analyst",
        "reads accounts_user.email, which is not reportable",
        "reads pinstablr.accounts_user.password outside the console schema",
    ]


def test_docs_security_shows_the_classification_as_it_is():
    docs = (Path(__file__).resolve().parents[3] / "docs" / "security.md").read_text()
    shown = re.search(r"<!-- classification:start.*?-->\n(.*?)\n<!-- classification:end", docs,
                      flags=re.DOTALL)  # fmt: skip
    assert shown, "docs/security.md lost its classification markers"
    assert shown.group(1) == classification.markdown_table(), (
        "docs/security.md is out of date: paste in classification.markdown_table()"
    )
