"""Attacks on the query consoles: queries that try to read what the classification withholds.

``plant_secrets()`` writes a recognisable value into every withheld place (password hash,
e-mail, names, token, session, saved query SQL, query runs, audit log, captions, comments,
storage keys, experiment salt and QA notes); the tests run every query of the corpus as a
console user and check that none of those values comes back, nothing is written and nothing
answers with a server error. Used on SQLite (test_console_attacks.py) and on the real MariaDB
replicas over HTTP (test_console_attacks_mariadb.py).

``{base}`` in a query is the base schema's name (the table owner the console must not reach);
``{email}`` and ``{hash}`` are values an attacker guessed and wants confirmed.
"""

from __future__ import annotations

import re
from typing import Any

# (name, SQL) run on a target that reads the primary's schema (reporting, experiments_read).
MAIN_CORPUS: list[tuple[str, str]] = [
    # Plain reads of withheld columns and tables.
    ("password", "SELECT password FROM accounts_user"),
    ("star_user", "SELECT * FROM accounts_user"),
    ("email", "SELECT email FROM accounts_user"),
    ("names", "SELECT username, first_name, last_name FROM accounts_user"),
    ("token", "SELECT * FROM accounts_apitoken"),
    ("old_token", "SELECT `key` FROM authtoken_token"),
    ("session", "SELECT session_key, session_data FROM django_session"),
    ("saved_sql", "SELECT title, `sql` FROM reports_savedquery"),
    ("run_sql", "SELECT `sql`, error FROM reports_queryrun"),
    ("audit", "SELECT * FROM audit_auditentry"),
    ("grants", "SELECT * FROM guardian_userobjectpermission"),
    ("report_rows", "SELECT * FROM reports_reportrow"),
    ("caption", "SELECT caption FROM photos_photo"),
    ("comment", "SELECT text FROM photos_comment"),
    ("profile", "SELECT display_name, bio FROM accounts_profile"),
    ("storage_key", "SELECT storage_key FROM photos_rendition"),
    ("hidden_reason", "SELECT hidden_reason, original_key, sha256 FROM photos_photo"),
    # Quoting styles and names the lexer and the server read differently.
    ("backquotes", "SELECT `password` FROM `accounts_user`"),
    ("ansi_quotes", 'SELECT "password" FROM "accounts_user"'),
    ("mixed_case", "SELECT PassWord FROM AcCoUnTs_UsEr"),
    ("doubled_backquote", "SELECT `pass``word` FROM accounts_user"),
    ("schema_qualified", "SELECT password, email FROM {base}.accounts_user"),
    ("schema_backquoted", "SELECT `password` FROM `{base}`.`accounts_user`"),
    ("schema_star", "SELECT * FROM {base}.django_session"),
    # Every comment form, and comments the server executes.
    ("inline_comments", "SELECT/**/password/**/FROM/**/accounts_user"),
    ("dash_comment", "SELECT id FROM photos_photo -- \nUNION SELECT password FROM accounts_user"),
    ("hash_comment", "SELECT id FROM photos_photo # \nUNION SELECT email FROM accounts_user"),
    ("executable_comment", "SELECT 1 /*!50000 , password */ FROM accounts_user"),
    ("mariadb_comment", "SELECT 1 /*M! , email */ FROM accounts_user"),
    ("whole_executable", "/*!50000 SELECT password FROM accounts_user */"),
    # String escapes: the lexer ends the string where the server does not, or the reverse.
    ("backslash_quote", "SELECT 'a\\' FROM accounts_user -- ', password FROM accounts_user"),
    ("doubled_quote", "SELECT 'it''s', email FROM accounts_user"),
    ("hex_literal", "SELECT x'41', password FROM accounts_user"),
    ("national_literal", "SELECT N'x', email FROM accounts_user"),
    # Subqueries, CTEs, UNION, derived tables.
    ("scalar_subquery", "SELECT (SELECT password FROM accounts_user LIMIT 1)"),
    ("cte", "WITH x AS (SELECT password AS p FROM accounts_user) SELECT p FROM x"),
    ("recursive_cte", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
     "WHERE n < 3) SELECT r.n, u.email FROM r, accounts_user u"),
    ("union", "SELECT id FROM photos_photo UNION SELECT password FROM accounts_user"),
    ("derived", "SELECT * FROM (SELECT * FROM {base}.accounts_user) AS t"),
    ("join_token", "SELECT u.id, t.digest FROM accounts_user u JOIN accounts_apitoken t "
     "ON t.user_id = u.id"),
    ("where_probe", "SELECT id FROM accounts_user WHERE password LIKE 'pbkdf2%'"),
    ("order_probe", "SELECT id FROM accounts_user ORDER BY email"),
    ("group_probe", "SELECT COUNT(*) FROM accounts_user GROUP BY email"),
    ("functions", "SELECT HEX(password), CONCAT(email) FROM accounts_user"),
    ("aggregate", "SELECT GROUP_CONCAT(email) FROM accounts_user"),
    # Equality oracles: columns compared by USING or NATURAL JOIN are not privilege-checked
    # by MariaDB or SQLite; they must not exist for the console at all.
    ("using_oracle", "SELECT u.id FROM accounts_user u JOIN (SELECT '{email}' AS email) x "
     "USING (email)"),
    ("natural_oracle", "SELECT u.id FROM accounts_user u NATURAL JOIN "
     "(SELECT '{hash}' AS password) x"),
    ("using_oracle_base", "SELECT u.id FROM {base}.accounts_user u JOIN "
     "(SELECT '{email}' AS email) x USING (email)"),
    # The catalogue and the server.
    ("information_schema", "SELECT table_schema, table_name, column_name "
     "FROM information_schema.columns"),
    ("view_definitions", "SELECT table_name, view_definition FROM information_schema.views"),
    ("mysql_user", "SELECT user, password, authentication_string FROM mysql.user"),
    ("sqlite_master", "SELECT name, sql FROM sqlite_master"),
    ("pragma_function", "SELECT * FROM pragma_table_info('accounts_user')"),
    ("load_file", "SELECT LOAD_FILE('/etc/passwd')"),
    ("processlist", "SELECT * FROM information_schema.processlist"),
    # Writes, files and locks dressed as SELECTs.
    ("into_outfile", "SELECT id INTO OUTFILE '/tmp/pinstablr-console' FROM photos_photo"),
    ("into_variable", "SELECT id INTO @x FROM photos_photo LIMIT 1"),
    ("for_update", "SELECT id FROM photos_photo FOR UPDATE"),
    ("share_lock", "SELECT id FROM photos_photo LOCK IN SHARE MODE"),
    ("two_statements", "SELECT 1; UPDATE photos_photo SET caption = 'changed'"),
    ("cte_delete", "WITH x AS (SELECT 1) DELETE FROM photos_photo"),
    ("show_grants", "SHOW GRANTS"),
    ("do_sleep", "DO SLEEP(1)"),
    ("handler", "HANDLER accounts_user OPEN"),
    # Time and size.
    ("sleep", "SELECT SLEEP(30)"),
    ("benchmark", "SELECT BENCHMARK(100000000000, MD5('x'))"),
    ("cross_join", "SELECT a.id FROM photos_photo a, photos_photo b, photos_photo c, "
     "photos_photo d"),
    ("wide_cell", "SELECT REPEAT('x', 5000000) AS wide"),
    ("wide_rows", "SELECT REPEAT('w', 60000) AS a, REPEAT('v', 60000) AS b FROM photos_photo a, "
     "photos_photo b"),
    ("long_text", "SELECT " + " + ".join(["1"] * 4000)),
]  # fmt: skip

# (name, SQL) run on the experiments database's console.
EXPERIMENTS_CORPUS: list[tuple[str, str]] = [
    ("salt", "SELECT salt FROM experiments_experiment"),
    ("star_experiment", "SELECT * FROM {base}.experiments_experiment"),
    ("qa_note", "SELECT note, user_id FROM experiments_forcedvariant"),
    ("migrations", "SELECT * FROM django_migrations"),
    ("salt_oracle", "SELECT e.id FROM experiments_experiment e JOIN "
     "(SELECT '{salt}' AS salt) x USING (salt)"),
    ("schema_salt", "SELECT salt FROM {base}.experiments_experiment"),
    ("comment_salt", "SELECT id /*!50000 , salt */ FROM experiments_experiment"),
]  # fmt: skip

# In every planted value, so a leak is found whatever the column; long enough that no random
# token on a page (the CSRF token) holds it by chance.
MARKER = "Zq7xQ9"


def plant_secrets() -> dict[str, Any]:
    """Recognisable values in every withheld column; returns them (and the values probed)."""
    from django.contrib.sessions.backends.db import SessionStore

    from apps.accounts.models import ApiToken, Profile, User
    from apps.audit.models import AuditEntry
    from apps.experiments.models import Experiment, ForcedVariant, Variant
    from apps.photos.models import Comment, Photo, Rendition
    from apps.reports.models import QueryRun, SavedQuery
    from tests.factories import PhotoFactory

    victim = User.objects.create_user(
        username=f"victim{MARKER}", email=f"victim{MARKER}@secret.example",
        password=f"pw-{MARKER}-correct-horse", first_name=f"First{MARKER}",
        last_name=f"Last{MARKER}",
    )  # fmt: skip
    Profile.objects.update_or_create(
        user=victim, defaults={"display_name": f"Display{MARKER}", "bio": f"bio {MARKER} text"}
    )
    token_key = f"tokenkey{MARKER}0123456789abcdef"
    ApiToken.objects.create(
        user=victim, name=f"laptop{MARKER}", prefix=token_key[:8],
        digest=ApiToken.digest_for(token_key),
    )  # fmt: skip
    session = SessionStore()
    session["secret"] = f"session-{MARKER}"
    session.create()
    query = SavedQuery.objects.create(
        owner=victim, title="client list", sql=f"SELECT '{MARKER}-client' AS client"
    )
    QueryRun.objects.create(
        user=victim, saved_query=query, target="reporting", sql=query.sql, status="ok",
        started_at=victim.date_joined,
    )  # fmt: skip
    AuditEntry.objects.create(
        actor=victim, actor_name=victim.username, action="grant", target_type="reports.report",
        target_id="1", target_repr=f"report {MARKER}", detail={"note": f"audit-{MARKER}"},
    )  # fmt: skip
    photo = PhotoFactory(
        owner=victim, caption=f"caption {MARKER}", status=Photo.Status.READY,
        sha256=f"{MARKER}".ljust(64, "0"), original_key=f"originals/{MARKER}.jpg",
        hidden_reason=f"reason {MARKER}",
    )  # fmt: skip
    Rendition.objects.create(
        photo=photo, width=10, height=10, format="webp", storage_key=f"renditions/{MARKER}.webp",
        bytes=10,
    )  # fmt: skip
    Comment.objects.create(photo=photo, author=victim, text=f"comment {MARKER}")
    experiment = Experiment.objects.create(
        key=f"exp-{MARKER}", name="Planted", owning_team_id=1, salt=f"salt{MARKER}",
    )  # fmt: skip
    variant = Variant.objects.create(experiment=experiment, key="control", name="Control",
                                     weight=1, is_control=True)  # fmt: skip
    ForcedVariant.objects.create(
        experiment=experiment, user_id=victim.pk, variant=variant, note=f"qa {MARKER} tester"
    )
    victim.refresh_from_db()
    secrets = [
        victim.password, victim.email, victim.username, victim.first_name, victim.last_name,
        token_key, ApiToken.digest_for(token_key), session.session_key,
    ]  # fmt: skip
    return {
        "secrets": [value for value in secrets if value],
        "email": victim.email,
        "hash": victim.password,
        "salt": experiment.salt,
    }


# Equality probes: a right guess must get the answer a wrong one gets.
ORACLES = frozenset({"using_oracle", "natural_oracle", "using_oracle_base", "salt_oracle"})


def wrong_guesses(planted: dict[str, Any]) -> dict[str, Any]:
    """``planted`` with every guessed value replaced by one that matches nothing."""
    return {**planted, "email": "nobody@wrong.example", "hash": "x", "salt": "x"}


def results(body: str) -> str:
    """The results section of a console page, without its timing."""
    section = re.search(r'<section class="results".*?</section>', body, flags=re.DOTALL)
    assert section, body[-2000:]
    return re.sub(r"in [\d,]+ ms", "", section.group(0))


def leaked(text: str, planted: dict[str, Any]) -> list[str]:
    """The planted values found in ``text`` (a response, a result), the query's own text aside."""
    # The console shows the SQL that was typed, which holds the guesses of the oracle probes.
    text = re.sub(r"<textarea[^>]*>.*?</textarea>", "", text, flags=re.DOTALL)
    found = [value for value in planted["secrets"] if value in text]
    if MARKER in text:
        found.append(f"a value holding {MARKER!r}")
    return found


def render(sql: str, *, base: str, planted: dict[str, Any]) -> str:
    """The corpus query with its placeholders filled."""
    return sql.format(base=base, email=planted["email"], hash=planted["hash"], salt=planted["salt"])
