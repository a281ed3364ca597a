"""The commands `make run` relies on before Django can even reach its database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings.test", "PITBOSS_IGNORE_DOTENV": "1"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_check_services_passes_when_both_answer():
    result = _manage("check_services")
    assert result.returncode == 0, result.stderr
    assert "reachable" in result.stdout


def test_check_services_names_an_unreachable_redis_and_how_to_point_at_one():
    result = _manage("check_services", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "Redis is not reachable at redis://127.0.0.1:1/0" in result.stderr
    assert "REDIS_URL=redis://HOST:6379/0" in result.stderr
    assert "PostgreSQL" not in result.stderr


def test_check_services_names_an_unreachable_postgres():
    result = _manage("check_services", DATABASE_URL="postgres://postgres@127.0.0.1:1/pitboss")
    assert result.returncode == 1
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in result.stderr
    assert "DATABASE_URL=postgres://" in result.stderr


def test_check_services_counts_a_server_without_our_roles_yet_as_reachable():
    """On a fresh machine the roles do not exist before ensure_database: the server still answers."""
    result = _manage("check_services", DATABASE_URL="postgres://pb_nobody_yet@127.0.0.1:5432/pitboss")
    assert result.returncode == 0, result.stderr
    assert 'role "pb_nobody_yet" does not exist' in result.stdout and "ensure_database" in result.stdout


def test_ensure_database_creates_a_missing_database_once():
    name = f"pitboss_setup_{uuid.uuid4().hex[:10]}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        first = _manage("ensure_database", DATABASE_URL=url)
        assert first.returncode == 0 and "created" in first.stdout, first.stderr
        second = _manage("ensure_database", DATABASE_URL=url)
        assert second.returncode == 0 and "exists" in second.stdout
    finally:
        with psycopg.connect("dbname=postgres host=127.0.0.1 user=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _superuser(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(f"dbname={dbname} host=127.0.0.1 user=postgres", autocommit=True)


def _drop(name: str, *roles: str) -> None:
    with _superuser() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_ensure_database_and_migrate_make_the_two_roles_on_a_fresh_server(tmp_path):
    """`make run`'s db step: the roles and the database once, migrations as the owner, the app granted; then
    the ledger's partition switch on the owner's connection, and the audit trail verified by the app."""
    checkpoints = tmp_path / "checkpoints"
    suffix = uuid.uuid4().hex[:8]
    name, app, owner = f"pitboss_setup_{suffix}", f"pb_app_{suffix}", f"pb_owner_{suffix}"
    env = {
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
        "DATABASE_URL": f"postgres://{app}:app-secret@127.0.0.1:5432/{name}",
        "MIGRATION_DATABASE_URL": f"postgres://{owner}:owner-secret@127.0.0.1:5432/{name}",
    }
    try:
        first = _manage("ensure_database", **env)
        assert first.returncode == 0, first.stderr
        assert f"role '{owner}' created" in first.stdout and f"role '{app}' created" in first.stdout
        assert f"database '{name}' created" in first.stdout
        again = _manage("ensure_database", **env)
        assert again.returncode == 0 and "created" not in again.stdout and "exists" in again.stdout, again.stderr
        migrated = _manage("migrate", "--no-input", **env)
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        with _superuser(name) as conn:
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            ).fetchall()
            assert owners == [(owner,)]
            privileges = conn.execute(
                "SELECT has_table_privilege(%s, 'audit_event', 'INSERT'), has_table_privilege(%s, 'audit_event', "
                "'UPDATE'), has_table_privilege(%s, 'players_player', 'UPDATE'), "
                "(SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = %s)",
                [app, app, app, app],
            ).fetchone()
            assert privileges == (True, False, True, False)
        # DDL after migrations goes to the owner's connection, the rest stays on the application's
        switched = _manage("ledger_partition", "--switch", **env, AUDIT_CHECKPOINT_DIR=str(checkpoints))
        assert switched.returncode == 0, switched.stderr[-2000:]
        with _superuser(name) as conn:
            partitions = conn.execute(
                "SELECT c.relname, pg_get_userbyid(c.relowner), has_table_privilege(%s, c.oid, 'INSERT'), "
                "has_table_privilege(%s, c.oid, 'DELETE') FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'wallet_entry'::regclass",
                [app, app],
            ).fetchall()
            assert len(partitions) >= 4 and {p[1:] for p in partitions} == {(owner, True, False)}
            audited = conn.execute("SELECT count(*) FROM audit_event WHERE action = 'ledger.entries_partitioned'")
            assert audited.fetchone() == (1,)  # committed with the switch, on the owner's connection
        for command in ("audit_checkpoint", "audit_verify"):
            ran = _manage(command, **env, AUDIT_CHECKPOINT_DIR=str(checkpoints))
            assert ran.returncode == 0, ran.stderr[-2000:]
        assert "1 checkpoints matched" in ran.stdout
    finally:
        _drop(name, app, owner)


def test_ensure_database_hands_an_older_databases_objects_to_the_owner():
    """A database made before there were two roles belongs to the superuser: migrations as the owner could not
    alter its tables, nor replace pgtrigger's functions."""
    suffix = uuid.uuid4().hex[:8]
    name, app, owner = f"pitboss_setup_{suffix}", f"pb_app_{suffix}", f"pb_owner_{suffix}"
    try:
        with _superuser() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with _superuser(name) as conn:
            conn.execute("CREATE TABLE old_table (id bigserial PRIMARY KEY)")
            conn.execute("CREATE FUNCTION old_function() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        result = _manage(
            "ensure_database",
            DATABASE_URL=f"postgres://{app}@127.0.0.1:5432/{name}",
            MIGRATION_DATABASE_URL=f"postgres://{owner}@127.0.0.1:5432/{name}",
        )
        assert result.returncode == 0, result.stderr
        assert (
            f"now owned by '{owner}'" in result.stdout and "2 objects given to the owner" in result.stdout
        )  # the sequence follows its table
        with _superuser(name) as conn:
            assert conn.execute(
                "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname IN ('old_table', 'old_table_id_seq') "
                "UNION SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'old_function'"
            ).fetchall() == [(owner,)]
            assert conn.execute("SELECT has_table_privilege(%s, 'old_table', 'UPDATE')", [app]).fetchone() == (True,)
    finally:
        _drop(name, app, owner)


def test_make_test_hands_a_leftover_test_database_of_the_superuser_to_the_owner():
    """The test runner creates (and first drops) its databases as the owner, which cannot drop the superuser's."""
    test_name = f"pb_left_{uuid.uuid4().hex[:8]}"
    leftover = f"{test_name}_gw3"
    try:
        with _superuser() as conn:
            conn.execute(f'CREATE DATABASE "{leftover}"')
        result = _manage("ensure_database", "--roles-only", TEST_DATABASE_NAME=test_name)
        assert result.returncode == 0, result.stderr
        assert f"leftover test database '{leftover}' handed to" in result.stdout
        with _superuser() as conn:
            owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [leftover])
            assert owner.fetchone() == (settings.DATABASE_OWNER_ROLE,)
    finally:
        _drop(leftover)
