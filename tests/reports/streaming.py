"""A private primary and its streaming replica, for the reports router's tests (tests/reports/test_replica.py).

The primary is a fresh ``initdb`` cluster on a free loopback port (the fault tests' ``Postgres``, run as the
postgres OS user when the suite runs as root) with ``wal_level=replica``, a replication role and a pg_hba line that
lets only that role replicate; its ``pitboss`` database gets the suite's migrated schema (``pg_dump --schema-only``
of the test database, restored) and the application's grants. The standby is ``pg_basebackup -R`` of it, started
on another port: a hot standby that streams from the primary, as the production replica behind
``REPORTS_DATABASE_URL`` does. The suite's PostgreSQL is only read (its schema), never changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from apps.core.dbroles import grant_app_privileges
from tests.faults.stack import Postgres, _as_pg_user, _give_to_pg_user, pg_binary, wait_for

REPLICATION_ROLE = "pitboss_replication"
REPORTS_ROLE = "pitboss_reports"  # what REPORTS_DATABASE_URL logs in as: reads every table, writes none
DATABASE = "pitboss"
BINARIES = ("initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_dump", "pg_restore")

HBA = f"""\
local all all trust
host all all 127.0.0.1/32 trust
host replication {REPLICATION_ROLE} 127.0.0.1/32 trust
"""
PRIMARY_CONF = """
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
full_page_writes = off
"""


def missing_binaries() -> str | None:
    """Why a streaming pair cannot be started here, or None."""
    missing = [name for name in BINARIES if pg_binary(name) is None]
    if missing:
        return f"the replica tests need the PostgreSQL server binaries {', '.join(missing)} on this machine"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "the replica tests run as root and need a 'postgres' OS user to own the private clusters"
        if shutil.which("runuser") is None:
            return "the replica tests run as root and need runuser to start PostgreSQL as the 'postgres' user"
    return None


@dataclass
class StreamingPair:
    primary: Postgres
    standby: Postgres

    def settings(self, server: Postgres, user: str) -> dict[str, Any]:
        """A Django DATABASES entry for ``server`` (no pool: each test's connections are closed at its end)."""
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DATABASE,
            "USER": user,
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": str(server.port),
            "CONN_MAX_AGE": 0,
            "OPTIONS": {"connect_timeout": 5},
        }

    def url(self, server: Postgres, user: str) -> str:
        return f"postgres://{user}@127.0.0.1:{server.port}/{DATABASE}"

    def replay(self, timeout: float = 10) -> float:
        """Wait until the standby has replayed everything the primary has written; returns the seconds it took."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()::text")[0][0]
        return wait_for(
            lambda: self.standby.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0][0],
            timeout,
            what="the standby's replay of the primary's WAL",
        )

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The standby receives WAL but applies none of it until the block ends: a replica that lags."""
        self.standby.sql("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            self.standby.sql("SELECT pg_wal_replay_resume()")

    @contextmanager
    def standby_stopped(self) -> Iterator[None]:
        """The replica's server is down for the block, then back and streaming."""
        self.standby.stop()
        try:
            yield
        finally:
            self.standby.start()
            wait_for(self.streaming, 30, what="the standby streaming again")

    def streaming(self) -> bool:
        rows = self.primary.sql(
            "SELECT count(*) FROM pg_stat_replication WHERE usename = %s AND state = 'streaming'",
            [REPLICATION_ROLE],
            db="postgres",
        )
        return bool(rows[0][0])


def _copy_schema(source: dict[str, Any], primary: Postgres, workdir: Path) -> None:
    """The schema (no rows) of the database ``source`` names (a Django DATABASES entry: the suite's migrated test
    database) into the primary's: the tables, indexes, triggers and functions the migrations made, in seconds
    where running the migrations takes a quarter of a minute."""
    dump = workdir / "schema.dump"
    env = {**os.environ, "PGPASSWORD": str(source.get("PASSWORD") or "")}
    where = ["-h", str(source.get("HOST") or "127.0.0.1"), "-p", str(source.get("PORT") or 5432)]
    plain = ["--schema-only", "--no-owner", "--no-privileges"]
    dump_argv = [pg_binary("pg_dump") or "pg_dump", "-Fc", *plain, *where, "-U", str(source["USER"]), "-f", str(dump)]
    subprocess.run(
        [*dump_argv, str(source["NAME"])],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    restore = pg_binary("pg_restore") or "pg_restore"
    target = f"postgres://postgres@127.0.0.1:{primary.port}/{DATABASE}"
    subprocess.run(
        [restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "-d", target, str(dump)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _start_primary(primary: Postgres, schema_of: dict[str, Any], app_role: str) -> None:
    primary.initdb()
    (primary.data / "pg_hba.conf").write_text(HBA)
    with (primary.data / "postgresql.conf").open("a") as conf:
        conf.write(PRIMARY_CONF)
    primary.start()
    primary.sql(f"CREATE ROLE {REPLICATION_ROLE} LOGIN REPLICATION", db="postgres")
    primary.sql(f"CREATE ROLE {REPORTS_ROLE} LOGIN", db="postgres")
    primary.sql(f'CREATE ROLE "{app_role}" LOGIN', db="postgres")
    primary.sql(f"CREATE DATABASE {DATABASE}", db="postgres")
    _copy_schema(schema_of, primary, primary.dir)
    # The application's role gets what `migrate` grants it in production (apps.core.dbroles); the reports role
    # only reads (pg_read_all_data: every table, present and future, SELECT only).
    with psycopg.connect(primary.url("postgres", DATABASE), autocommit=True) as conn:
        grant_app_privileges(conn.cursor(), app_role=app_role)
        conn.execute(f"GRANT pg_read_all_data TO {REPORTS_ROLE}")


def _start_standby(primary: Postgres, standby: Postgres) -> None:
    standby.dir.mkdir(parents=True, exist_ok=True)
    standby.socket_dir.mkdir(exist_ok=True)
    _give_to_pg_user(standby.dir)
    basebackup = pg_binary("pg_basebackup") or "pg_basebackup"
    argv = [basebackup, "-h", "127.0.0.1", "-p", str(primary.port), "-U", REPLICATION_ROLE, "-D", str(standby.data)]
    subprocess.run(
        _as_pg_user([*argv, "--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast", "--no-sync"]),
        check=True,
        capture_output=True,
        timeout=60,
    )
    standby.start()


@contextmanager
def streaming_pair(*, schema_of: dict[str, Any], app_role: str) -> Iterator[StreamingPair]:
    """A primary whose ``pitboss`` database has the schema of ``schema_of`` (a Django DATABASES entry) and the
    application's grants, and a standby streaming from it; both stopped and removed at the end, whatever
    happened."""
    directory = Path(tempfile.mkdtemp(prefix="pitboss-replica-"))
    directory.chmod(0o755)
    pair = StreamingPair(primary=Postgres(directory / "primary"), standby=Postgres(directory / "standby"))
    try:
        try:
            _start_primary(pair.primary, schema_of, app_role)
            _start_standby(pair.primary, pair.standby)
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"{' '.join(exc.cmd)} failed: {exc.stderr}") from exc
        wait_for(pair.streaming, 30, what="the standby streaming from the primary")
        yield pair
    finally:
        pair.standby.stop("immediate")
        pair.primary.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
