"""Database roles: the application's role reads and writes rows; the owner role does everything else.

PostgreSQL lets only a table's owner (or a superuser) alter it, drop or disable its triggers, and only roles
granted TRUNCATE empty it. So the application connects as a role that owns nothing (``DATABASE_URL``) and
migrations run as the owner (``MIGRATION_DATABASE_URL``, the ``migration`` alias). After every ``migrate`` the
owner grants the application (``grant_app_privileges``, on ``post_migrate``):

* SELECT, INSERT, UPDATE, DELETE on every table, USAGE and SELECT on every sequence (nextval, not setval);
* on the append-only tables (the audit trail, the ledger's transactions and entries, and every partition of
  them) SELECT and INSERT only. Their pgtrigger triggers refuse UPDATE and DELETE too; pgtrigger's skip switch
  (``SET pgtrigger.ignore``) is redefined to never apply to the application's role, so every other pgtrigger
  protection (exclusions, restrictions, coverage, logins) holds against it as well;
* never TRUNCATE, TRIGGER or REFERENCES, and no membership in the owner's role (``ensure_database``);
* EXECUTE on ``audit_event_seal()``, the owner's SECURITY DEFINER function that is the only way to chain audit
  rows (the app has no UPDATE on the trail; the trail's trigger lets only the owner set the seal columns, once);
* default privileges for what the owner creates later outside a migration (the ledger's month partitions, made
  by the daily task on the owner's connection): SELECT and INSERT on tables, USAGE and SELECT on sequences. A
  later migration's tables get the full set from the grant that follows it.

``manage.py ensure_database`` creates both roles on a development machine (with a superuser). Where the two URLs
name the same role (an older one-role set-up, the benchmark database), there is nothing to grant.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

APPEND_ONLY_TABLES = ("audit_event", "wallet_transaction", "wallet_entry")
AUDIT_SEAL_FUNCTION = "public.audit_event_seal(bigint[], text[], bigint, text)"  # audit/0003
MIGRATION_ALIAS = "migration"


def ddl_alias() -> str:
    """The connection for DDL outside migrations (the ledger's partitions): the owner's."""
    alias = settings.DATABASE_DDL_ALIAS
    if alias not in settings.DATABASES:
        raise ImproperlyConfigured(
            "MIGRATION_DATABASE_URL: this process runs DDL (migrations, the ledger's partitions) and needs the "
            "owner role's URL; the application's role (DATABASE_URL) cannot alter tables"
        )
    return str(alias)


def owner_alias() -> str:
    """The owner's connection if this process has one, else the application's: for maintenance (VACUUM) that
    is better done by the owner but harmless to skip."""
    alias = settings.DATABASE_DDL_ALIAS
    return str(alias) if alias in settings.DATABASES else DEFAULT_DB_ALIAS


def _sql(template: str, **identifiers: str) -> sql.Composed:
    return sql.SQL(template).format(**{k: sql.Identifier(v) for k, v in identifiers.items()})


def grant_app_privileges(cursor: Any, *, app_role: str | None = None) -> bool:
    """Run as the owner: give the application's role exactly its privileges (module docstring). Idempotent.
    Returns False (and does nothing) when there is no separate application role to grant."""
    app = app_role or settings.DATABASE_APP_ROLE
    cursor.execute("SELECT current_user")
    owner = cursor.fetchone()[0]
    if not app or app == owner:
        return False
    statements = [
        _sql("GRANT USAGE ON SCHEMA public TO {app}", app=app),
        _sql("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}", app=app),
        _sql("REVOKE TRUNCATE, TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA public FROM {app}", app=app),
        _sql("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}", app=app),
        _sql("REVOKE UPDATE ON ALL SEQUENCES IN SCHEMA public FROM {app}", app=app),
        _sql("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO {app}", app=app),
        _sql("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}", app=app),
    ]
    for statement in statements:
        cursor.execute(statement)
    cursor.execute(_never_skip_for(app))
    for table in append_only_relations(cursor):
        cursor.execute(_sql("REVOKE UPDATE, DELETE ON {table} FROM {app}", table=table, app=app))
    cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [AUDIT_SEAL_FUNCTION])
    if cursor.fetchone()[0]:
        cursor.execute(
            sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(sql.SQL(AUDIT_SEAL_FUNCTION), sql.Identifier(app))
        )
    return True


def _never_skip_for(app: str) -> sql.Composed:
    """pgtrigger lets any session skip its triggers (``SET pgtrigger.ignore``), through this one function that
    every pgtrigger trigger calls. Redefined here, after every migrate (a migration that installs a trigger
    re-creates it), it never says "skip" to the application's role: the exclusion guard, the restriction guard
    and every other pgtrigger protection hold against the application's credentials too."""
    return sql.SQL(
        """CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME) RETURNS BOOLEAN AS $$
        DECLARE
            _pgtrigger_ignore TEXT[];
        BEGIN
            IF current_user = {app} THEN
                RETURN FALSE;
            END IF;
            BEGIN
                SELECT INTO _pgtrigger_ignore CURRENT_SETTING('pgtrigger.ignore');
                EXCEPTION WHEN OTHERS THEN
            END;
            RETURN coalesce(trigger_name = ANY(_pgtrigger_ignore), FALSE);
        END;
        $$ LANGUAGE plpgsql"""
    ).format(app=sql.Literal(app))


def append_only_relations(cursor: Any) -> list[str]:
    """The append-only tables that exist, with every partition of them (``wallet_entry`` once switched)."""
    cursor.execute(
        # pg_partition_tree lists nothing for a plain table: the root is added itself
        "SELECT c.relname FROM unnest(%s::text[]) AS root(name) "
        "CROSS JOIN LATERAL (SELECT to_regclass(root.name) AS relid UNION "
        "SELECT relid FROM pg_partition_tree(to_regclass(root.name))) t JOIN pg_class c ON c.oid = t.relid "
        "ORDER BY 1",
        [list(APPEND_ONLY_TABLES)],
    )
    return [row[0] for row in cursor.fetchall()]


def grant_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` (once per migrate: sent for this app only). Only the owner can grant; any other
    connection (a flush between tests, acting as the application) leaves the grants as they are. One
    transaction: the append-only tables are never, even for a moment, granted UPDATE or DELETE."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT pg_catalog.pg_get_userbyid(relowner) = current_user FROM pg_class WHERE oid = %s::regclass",
            ["django_migrations"],
        )
        row = cursor.fetchone()
        if row and row[0]:
            grant_app_privileges(cursor)


def use_owner_for_default() -> bool:
    """Point the ``default`` alias at the owner role for the rest of this process (``manage.py migrate``).

    Data migrations write through the default manager, i.e. the ``default`` alias: they must run as the owner,
    in the migration's own transaction, not on a second connection as the application."""
    owner = settings.DATABASES.get(MIGRATION_ALIAS)
    default = connections[DEFAULT_DB_ALIAS]
    if owner is None or owner["USER"] == default.settings_dict["USER"]:
        return False
    default.close()
    close_pool = getattr(default, "close_pool", None)
    if close_pool:
        close_pool()
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        default.settings_dict[key] = owner[key]
    default.settings_dict["OPTIONS"] = dict(owner.get("OPTIONS") or {})  # no pool, no server-side binding
    return True


def app_role_problems(cursor: Any, app_role: str | None = None) -> list[str]:
    """What the application's role may do that it must not (empty: nothing). Read from the catalogue, so any
    connection can ask; ``manage.py check --database default`` reports it (``apps.core.checks``)."""
    app = app_role or settings.DATABASE_APP_ROLE
    cursor.execute(
        "SELECT rolsuper, rolcreaterole, rolbypassrls, "
        "(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        " WHERE n.nspname = 'public' AND c.relowner = r.oid) FROM pg_roles r WHERE rolname = %s",
        [app],
    )
    row = cursor.fetchone()
    if row is None:
        return [f"the application's role {app!r} does not exist (manage.py ensure_database)"]
    superuser, createrole, bypassrls, owned = row
    problems = ["it is a superuser: it can disable any trigger"] if superuser else []
    problems += ["it may create roles"] if createrole else []
    problems += ["it bypasses row-level security"] if bypassrls else []
    problems += [f"it owns {owned} tables or sequences: it can alter them and disable their triggers"] if owned else []
    if not superuser:
        for table in append_only_relations(cursor):
            cursor.execute(
                "SELECT array_remove(ARRAY[CASE WHEN has_table_privilege(%s, c.oid, 'UPDATE') THEN 'UPDATE' END, "
                "CASE WHEN has_table_privilege(%s, c.oid, 'DELETE') THEN 'DELETE' END, "
                "CASE WHEN has_table_privilege(%s, c.oid, 'TRUNCATE') THEN 'TRUNCATE' END, "
                "CASE WHEN has_table_privilege(%s, c.oid, 'TRIGGER') THEN 'TRIGGER' END], NULL) "
                "FROM pg_class c WHERE c.relname = %s AND c.relnamespace = 'public'::regnamespace",
                [app, app, app, app, table],
            )
            granted = cursor.fetchone()[0]
            if granted:
                problems.append(f"it has {', '.join(granted)} on {table}")
    return problems
