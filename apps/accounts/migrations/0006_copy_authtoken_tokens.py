"""Carry the one-per-user tokens of DRF's authtoken table over to named, hashed API tokens.

Clients keep their keys: only the digest is stored, and the key still signs them in. The old
table is left in place (pods of the previous release still read it during a rolling deploy);
a later release drops it.
"""

import hashlib
from datetime import UTC, datetime

from django.db import migrations, router
from django.utils.dateparse import parse_datetime

OLD_TABLE = "authtoken_token"


def aware(value):
    """The old row's creation time as an aware UTC datetime (SQLite returns text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def copy_tokens(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    connection = schema_editor.connection
    if not router.allow_migrate_model(connection.alias, ApiToken):
        return
    if OLD_TABLE not in connection.introspection.table_names():
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('key')}, {quote('user_id')}, {quote('created')} "  # noqa: S608
            f"FROM {quote(OLD_TABLE)}"
        )
        rows = cursor.fetchall()
    tokens = []
    for key, user_id, created in rows:
        token = ApiToken(
            user_id=user_id,
            name="API",
            prefix=key[:8],
            digest=hashlib.sha256(key.encode()).hexdigest(),
        )
        token.created_at = aware(created) or token.created_at
        tokens.append(token)
    ApiToken.objects.using(connection.alias).bulk_create(tokens, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_api_tokens"),
    ]

    operations = [
        migrations.RunPython(copy_tokens, migrations.RunPython.noop, elidable=True),
    ]
