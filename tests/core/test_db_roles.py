"""The application's database role can read and write rows, and nothing that would let it rewrite history:
no UPDATE, DELETE or TRUNCATE of audit or ledger rows, no DDL, no trigger switched off (apps/core/dbroles.py).

These log in as the application's role exactly as production does (``DATABASE_URL``'s user), on a connection
of their own; the rest of the suite acts as that role too (tests/dbroles.py)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from psycopg import errors

from apps.core.dbroles import APPEND_ONLY_TABLES
from tests.dbroles import as_owner

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        settings.DATABASE_APP_ROLE == settings.DATABASE_OWNER_ROLE,
        reason="DATABASE_URL and MIGRATION_DATABASE_URL name one role: there is no application role to test",
    ),
]

PROTECTED = ("audit_event", "wallet_entry", "wallet_transaction")


@pytest.fixture
def app_login() -> Iterator[psycopg.Connection]:
    """A connection that logs in as the application's role, to the test database."""
    db = connection.settings_dict
    app = settings.DATABASE_ROLES["app"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=app["USER"],
        password=app["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as conn:
        conn.execute("SET lock_timeout = '5s'")
        yield conn


def _refused(conn: psycopg.Connection, statement: str) -> str:
    with pytest.raises(errors.InsufficientPrivilege) as refused:
        conn.execute(statement)
    return str(refused.value)


def test_the_protected_tables_are_the_audit_trail_and_the_ledger():
    assert set(PROTECTED) <= set(APPEND_ONLY_TABLES)


@pytest.mark.parametrize("table", PROTECTED)
def test_the_app_role_cannot_update_delete_truncate_or_alter_audit_and_ledger_rows(app_login, table):
    assert app_login.execute("SELECT current_user").fetchone() == (settings.DATABASE_APP_ROLE,)
    app_login.execute(f"SELECT count(*) FROM {table}")  # it may read
    assert "permission denied" in _refused(app_login, f"UPDATE {table} SET id = id")
    assert "permission denied" in _refused(app_login, f"DELETE FROM {table}")
    assert "permission denied" in _refused(app_login, f"TRUNCATE {table}")
    assert "must be owner" in _refused(app_login, f"ALTER TABLE {table} ADD COLUMN forged text")
    assert "must be owner" in _refused(app_login, f"DROP TABLE {table}")


@pytest.mark.parametrize("table", PROTECTED)
def test_the_app_role_cannot_switch_the_triggers_off(app_login, table):
    assert "must be owner" in _refused(app_login, f"ALTER TABLE {table} DISABLE TRIGGER USER")
    assert "must be owner" in _refused(app_login, f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    trigger = app_login.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal LIMIT 1", [table]
    ).fetchone()[0]
    assert "must be owner" in _refused(app_login, f'DROP TRIGGER "{trigger}" ON {table}')
    assert "permission denied" in _refused(
        app_login,
        f"CREATE TRIGGER forged BEFORE INSERT ON {table} FOR EACH ROW "
        "EXECUTE FUNCTION suppress_redundant_updates_trigger()",
    )
    # the superuser's switch for every trigger at once
    assert "permission denied" in _refused(app_login, "SET session_replication_role = replica")
    # pgtrigger's own switch is a plain setting anyone may set: the missing privilege is what still refuses
    app_login.execute("SELECT set_config('pgtrigger.ignore', %s, false)", ["{" + trigger + "}"])
    assert "permission denied" in _refused(app_login, f"UPDATE {table} SET id = id")
    assert "permission denied" in _refused(app_login, f"DELETE FROM {table}")


def test_the_app_role_can_do_no_ddl(app_login):
    assert "permission denied for schema public" in _refused(app_login, "CREATE TABLE forged (id int)")
    assert "must be owner" in _refused(app_login, "ALTER TABLE players_player DISABLE TRIGGER ALL")
    assert "must be owner" in _refused(app_login, "DROP FUNCTION audit_event_refuse_truncate()")
    assert "permission denied" in _refused(app_login, "SELECT setval(pg_get_serial_sequence('audit_event', 'id'), 1)")


def test_the_app_role_writes_rows_where_it_should(app_login):
    with app_login.transaction(force_rollback=True):
        app_login.execute(
            "INSERT INTO audit_event (occurred_at, actor_type, actor_id, actor_name, action, target_type, target_id, "
            "target_label, data, request_id, nonce, content_mac, hash_version) "
            "VALUES (now(), 'system', '', 't', 'test.row', '', '', '', '{}', '', gen_random_uuid(), 'c', 3)"
        )
        app_login.execute("UPDATE players_player SET first_name = first_name WHERE false")
        app_login.execute("DELETE FROM django_session WHERE false")


def test_the_app_role_is_a_plain_login_and_no_member_of_the_owner():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin, "
            "pg_has_role(rolname, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s",
            [settings.DATABASE_OWNER_ROLE, settings.DATABASE_APP_ROLE],
        )
        assert cursor.fetchone() == (False, False, False, False, False, True, False)


def test_every_table_is_granted_to_the_app_role_and_only_inserts_on_the_append_only_ones():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, has_table_privilege(%s, c.oid, 'SELECT'), has_table_privilege(%s, c.oid, 'INSERT'), "
            "has_table_privilege(%s, c.oid, 'UPDATE'), has_table_privilege(%s, c.oid, 'DELETE'), "
            "has_table_privilege(%s, c.oid, 'TRUNCATE'), has_table_privilege(%s, c.oid, 'TRIGGER') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
            [settings.DATABASE_APP_ROLE] * 6,
        )
        rows = {name: privileges for name, *privileges in cursor.fetchall()}
    assert len(rows) > 40
    for name, (select, insert, update, delete, truncate, trigger) in rows.items():
        append_only = name in APPEND_ONLY_TABLES
        assert (select, insert, truncate, trigger) == (True, True, False, False), name
        assert (update, delete) == ((False, False) if append_only else (True, True)), name


def test_a_table_the_owner_creates_later_is_granted_to_the_app_role():
    """Default privileges: a month partition made by the daily task, say, can be read and written by the app
    at once (rows only: SELECT and INSERT; a later migration's tables get the rest after migrate)."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE later_table (id bigserial PRIMARY KEY)")
        cursor.execute(
            "SELECT has_table_privilege(%s, 'later_table', 'SELECT'), has_table_privilege(%s, 'later_table', 'INSERT'),"
            " has_table_privilege(%s, 'later_table', 'UPDATE'), has_table_privilege(%s, 'later_table', 'TRUNCATE'),"
            " has_sequence_privilege(%s, 'later_table_id_seq', 'USAGE')",
            [settings.DATABASE_APP_ROLE] * 5,
        )
        assert cursor.fetchone() == (True, True, False, False, True)


def test_the_suite_acts_as_the_app_role_on_a_connection_the_owner_logged_in():
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user, current_user")
        assert cursor.fetchone() == (settings.DATABASE_OWNER_ROLE, settings.DATABASE_APP_ROLE)


def test_ddl_outside_migrations_needs_the_owner_connection():
    from apps.wallet.tasks import ledger_partitions_extend

    with (
        override_settings(DATABASE_DDL_ALIAS="migration"),  # what base.py says; this process has no such URL
        pytest.raises(ImproperlyConfigured, match="MIGRATION_DATABASE_URL"),
    ):
        ledger_partitions_extend()


def _role_warnings() -> list[str]:
    from django.core import checks

    found = checks.run_checks(databases=["default"], tags=[checks.Tags.database])
    return [m.msg for m in found if m.id and m.id.startswith("pitboss.W10")]


def test_the_database_check_reports_an_app_role_with_too_many_rights():
    assert _role_warnings() == []
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE, TRUNCATE ON wallet_entry TO {settings.DATABASE_APP_ROLE}")
        assert _role_warnings() == [
            f"The application's database role {settings.DATABASE_APP_ROLE!r}: it has UPDATE, TRUNCATE on wallet_entry."
        ]


@pytest.mark.django_db(transaction=True)
def test_pgtriggers_skip_switch_does_not_work_for_the_app_role(app_login):
    """Every pgtrigger protection, not only the audit trail's and the ledger's, holds against the app's login."""
    from apps.audit.services import SystemActor
    from apps.players.services import player_set_block
    from tests.factories import PlayerFactory

    player_set_block(
        actor=SystemActor("t"), player=PlayerFactory(), capability="bet", blocked=True, reason="fraud review"
    )
    triggers = [
        row[0]
        for row in app_login.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'players_playerrestriction'::regclass AND NOT tgisinternal"
        ).fetchall()
    ]
    app_login.execute("SELECT set_config('pgtrigger.ignore', %s, false)", ["{" + ",".join(triggers) + "}"])
    with pytest.raises(errors.RaiseException):
        app_login.execute("DELETE FROM players_playerrestriction")
    with pytest.raises((errors.RaiseException, errors.CheckViolation)):
        app_login.execute("UPDATE players_playerrestriction SET reason = 'nothing to see'")
    assert app_login.execute("SELECT count(*) FROM players_playerrestriction").fetchone() == (1,)
