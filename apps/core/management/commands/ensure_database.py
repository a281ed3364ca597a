"""Create what the application needs on the PostgreSQL server, idempotently: the two roles and the database.

Connects as ``DATABASE_ADMIN_URL`` (a superuser: ``postgres`` on a development machine or in CI). Production
servers usually have their roles made by whoever runs PostgreSQL; the command is then not needed, but it
documents exactly what they must be (docs/DEPLOYMENT.md, "Database roles").

* the owner role (``MIGRATION_DATABASE_URL``'s user): LOGIN, CREATEDB (the test runner creates its databases as
  it), owner of the database and of everything in it. Objects an older set-up made as another role (the
  superuser, before there were two roles) are handed to it, so its migrations can alter them;
* the application's role (``DATABASE_URL``'s user): LOGIN and nothing else (no superuser, CREATEDB, CREATEROLE,
  replication or BYPASSRLS; no membership in the owner's role), granted its privileges by ``apps.core.dbroles``;
  the owner is made a member of it (``SET ROLE``: how the test suite acts as the application).
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from psycopg import sql
from psycopg.conninfo import make_conninfo

from apps.core.dbroles import grant_app_privileges

APP_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
# relkind -> the ALTER command that changes its owner (sequences owned by a column follow their table)
ALTER_BY_KIND = {
    "r": "TABLE",
    "p": "TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "S": "SEQUENCE",
    "f": "FOREIGN TABLE",
}
# Objects in schema public that another role owns, except an extension's and a column's sequence (it follows
# its table): tables first, sequences last.
RELATIONS_TO_ADOPT = """
SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = ANY(%s) AND pg_catalog.pg_get_userbyid(c.relowner) <> %s
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype IN ('e', 'a', 'i'))
ORDER BY c.relkind DESC, c.relname
"""
FUNCTIONS_TO_ADOPT = """
SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND pg_catalog.pg_get_userbyid(p.proowner) <> %s
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.deptype = 'e')
"""


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


class Command(BaseCommand):
    help = (
        "Create the PostgreSQL roles (owner and application) and the database if missing, hand the owner "
        "everything in it, and grant the application its privileges; idempotent. Connects as DATABASE_ADMIN_URL."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--roles-only", action="store_true", help="only the roles (make test: the test runner makes its database)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = settings.DATABASES["default"]["NAME"]
        owner, app = settings.DATABASE_ROLES["owner"], settings.DATABASE_ROLES["app"]
        try:
            with psycopg.connect(settings.DATABASE_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
                admin_role = admin.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
                two_roles = owner["USER"] != app["USER"]
                if owner["USER"] != admin_role:
                    self._role(admin, owner["USER"], owner["PASSWORD"], "LOGIN CREATEDB")
                if two_roles:
                    self._role(admin, app["USER"], app["PASSWORD"], APP_ATTRIBUTES)
                    admin.execute(sql.SQL("GRANT {} TO {}").format(_ident(app["USER"]), _ident(owner["USER"])))
                    if self._member(admin, app["USER"], owner["USER"]):
                        admin.execute(sql.SQL("REVOKE {} FROM {}").format(_ident(owner["USER"]), _ident(app["USER"])))
                if options["roles_only"]:
                    self._test_databases(admin, owner["USER"])
                    self.stdout.write(self.style.SUCCESS(f"roles ready: owner {owner['USER']!r}, app {app['USER']!r}"))
                    return
                self._database(admin, name, owner["USER"])
            with psycopg.connect(make_conninfo(settings.DATABASE_ADMIN_URL, dbname=name), autocommit=True) as db:
                adopted = self._adopt(db, owner["USER"]) if owner["USER"] != admin_role else 0
                with db.transaction(), db.cursor() as cursor:
                    cursor.execute(sql.SQL("SET LOCAL ROLE {}").format(_ident(owner["USER"])))
                    granted = grant_app_privileges(cursor, app_role=app["USER"])
        except psycopg.Error as exc:
            raise CommandError(
                f"cannot set up database {name!r} (as DATABASE_ADMIN_URL's role): {str(exc).strip()}"
            ) from exc
        roles = f"owner {owner['USER']!r}" + (f", application {app['USER']!r}" if granted else " (one role)")
        self.stdout.write(self.style.SUCCESS(f"database {name!r} ready: {roles}; {adopted} objects given to the owner"))

    def _role(self, admin: psycopg.Connection[Any], role: str, password: str | None, attributes: str) -> None:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        statement = sql.SQL(f"{verb} ROLE {{}} {attributes}").format(_ident(role))
        if password:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        admin.execute(statement)
        if not exists:
            self.stdout.write(f"role {role!r} created")

    @staticmethod
    def _member(admin: psycopg.Connection[Any], member: str, of: str) -> bool:
        row = admin.execute(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
            "WHERE r.rolname = %s AND u.rolname = %s",
            [of, member],
        ).fetchone()
        return row is not None

    def _database(self, admin: psycopg.Connection[Any], name: str, owner: str) -> None:
        row = admin.execute(
            "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(_ident(name), _ident(owner)))
            self.stdout.write(f"database {name!r} created")
            return
        self.stdout.write(f"database {name!r} exists")
        if row[0] != owner:
            admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(_ident(name), _ident(owner)))
            self.stdout.write(f"database {name!r} now owned by {owner!r} (was {row[0]!r})")

    def _test_databases(self, admin: psycopg.Connection[Any], owner: str) -> None:
        """A test database left behind by an interrupted run from before the roles (the superuser's) could not
        be dropped by the owner, which the test runner now is: hand such leftovers to it."""
        test_name = (settings.DATABASES["default"].get("TEST") or {}).get("NAME")
        if not test_name:
            return
        leftovers = admin.execute(
            "SELECT datname FROM pg_database WHERE (datname = %s OR starts_with(datname, %s)) "
            "AND pg_catalog.pg_get_userbyid(datdba) <> %s",
            [test_name, f"{test_name}_gw", owner],
        ).fetchall()
        for (leftover,) in leftovers:
            admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(_ident(leftover), _ident(owner)))
            self.stdout.write(f"leftover test database {leftover!r} handed to {owner!r}")

    @staticmethod
    def _adopt(db: psycopg.Connection[Any], owner: str) -> int:
        """Hand the owner whatever in schema public another role made (not extensions' objects)."""
        db.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(_ident(owner)))
        relations = db.execute(RELATIONS_TO_ADOPT, [list(ALTER_BY_KIND), owner]).fetchall()
        functions = db.execute(FUNCTIONS_TO_ADOPT, [owner]).fetchall()
        for relname, kind in relations:
            db.execute(
                sql.SQL(f"ALTER {ALTER_BY_KIND[kind]} {{}} OWNER TO {{}}").format(_ident(relname), _ident(owner))
            )
        for (signature,) in functions:
            db.execute(sql.SQL(f"ALTER FUNCTION {signature} OWNER TO {{}}").format(_ident(owner)))  # regprocedure text
        return len(relations) + len(functions)
