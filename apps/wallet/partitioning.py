"""Monthly partitions for the ledger's entries, switched on when the table is big enough to want them.

``wallet_entry`` starts as a plain table. ``convert`` turns it into a table partitioned by month on
``created_at`` without copying a row: the existing table is renamed ``wallet_entry_history`` and attached as the
partition for everything before a month boundary, and each month after it gets its own partition. What makes
that cheap was decided up front: ids and ``created_at`` grow together, nothing has a foreign key into entries,
and the application never updates or deletes an entry.

The switch runs in three steps, only the last of which blocks writers, and only for as long as it takes to
change the catalogue:

1. a unique index on ``(id, created_at)`` (the partitioned table's primary key must contain the partition key),
   built ``CONCURRENTLY``;
2. a CHECK that every row is older than the boundary, added ``NOT VALID`` and then validated (a scan that lets
   writers go on), so attaching the old table needs no scan under the lock;
3. in one transaction, under an exclusive lock: rename, create the partitioned parent with the same columns,
   indexes (the old table's are attached, not rebuilt), constraints and triggers (the append-only and balance
   triggers are re-created on the parent, which clones them to every partition), attach, and create the
   month partitions. The id sequence carries on where the old identity column stopped.

The boundary is the first day of the month after next, so the CHECK (which refuses rows at or after it) can
never bite while the switch is being prepared. ``extend`` creates partitions ahead (the beat runs it daily); a
DEFAULT partition catches anything outside them so a missing month never refuses a bet, and ``extend`` says
loudly when it holds rows.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from apps.audit.services import SystemActor, audit_log
from apps.core.dbroles import ddl_alias

log = logging.getLogger(__name__)

TABLE = "wallet_entry"
HISTORY = "wallet_entry_history"
DEFAULT = "wallet_entry_default"
KEY_INDEX = "wallet_entry_id_created_key"
RANGE_CHECK = "wallet_entry_before_boundary"
MONTHS_AHEAD = 3
LOCK_TIMEOUT_MS = 5000  # the switch gives up (and can be run again) rather than stall postings for longer


def _ddl() -> str:
    """Every statement here runs on the owner's connection (``MIGRATION_DATABASE_URL``): the application's role
    may not create, alter or attach tables. Audit events of a switch join that connection's transaction."""
    return ddl_alias()


@dataclass(frozen=True)
class Partition:
    name: str
    bounds: str


def is_partitioned() -> bool:
    with connections[_ddl()].cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
        return bool(cursor.fetchone()[0] == "p")


def partitions() -> list[Partition]:
    with connections[_ddl()].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [TABLE],
        )
        return [Partition(name, bounds) for name, bounds in cursor.fetchall()]


def _literal(day: date) -> str:
    """A date as SQL text: DDL takes no bind parameters. Only ``date`` objects come here (digits and dashes)."""
    if not isinstance(day, date):
        raise TypeError(day)
    return f"'{day.isoformat()}'"


def month_name(month: date) -> str:
    return f"{TABLE}_y{month.year}m{month.month:02d}"


def first_boundary(today: date | None = None) -> date:
    """The first day of the month after next: far enough ahead that preparing the switch never refuses a row."""
    today = today or timezone.now().date()
    return today.replace(day=1) + relativedelta(months=2)


def prepare(boundary: date, *, concurrently: bool = True) -> None:
    """Steps 1 and 2: online. ``concurrently=False`` only where a transaction is already open (tests).

    Adding the CHECK takes a brief exclusive lock: it gives up after ``LOCK_TIMEOUT_MS`` instead of queueing
    postings behind a long reader."""
    with connections[_ddl()].cursor() as cursor:
        cursor.execute(
            f"CREATE UNIQUE INDEX {'CONCURRENTLY ' if concurrently else ''}IF NOT EXISTS {KEY_INDEX} "
            f"ON {TABLE} (id, created_at)"
        )
        cursor.execute(f"SET lock_timeout = '{int(LOCK_TIMEOUT_MS)}ms'")
        try:
            cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {RANGE_CHECK}")
            cursor.execute(
                f"ALTER TABLE {TABLE} ADD CONSTRAINT {RANGE_CHECK} CHECK (created_at < {_literal(boundary)}) NOT VALID"
            )
            cursor.execute(f"ALTER TABLE {TABLE} VALIDATE CONSTRAINT {RANGE_CHECK}")
        finally:
            cursor.execute("RESET lock_timeout")


def _range_check_exists() -> bool:
    with connections[_ddl()].cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s", [TABLE, RANGE_CHECK]
        )
        return cursor.fetchone() is not None


def abandon() -> bool:
    """Undo step 2 when the switch did not happen: left in place, the CHECK would refuse every posting once the
    boundary passes. Returns whether the table is clean; if the lock could not be had, the daily ``extend``
    tries again (and logs an error until it succeeds)."""
    if not _range_check_exists():
        return True
    try:
        with transaction.atomic(using=_ddl()), connections[_ddl()].cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_MS)}ms'")
            cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {RANGE_CHECK}")
    except DatabaseError:
        log.error("ledger: could not drop %s from %s yet; the daily partition task retries", RANGE_CHECK, TABLE)
        return False
    return True


def _definitions(cursor) -> dict[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """The old table's indexes, constraints and triggers, as (name, SQL definition)."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND i.relname <> %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)",
        [TABLE, KEY_INDEX],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('c', 'f') AND conname <> %s ORDER BY contype, conname",
        [TABLE, RANGE_CHECK],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        [TABLE],
    )
    return {"indexes": indexes, "constraints": constraints, "triggers": cursor.fetchall()}


def convert(boundary: date, *, months_ahead: int = MONTHS_AHEAD) -> list[Partition]:
    """Step 3: the short switch, in one transaction. Run ``prepare`` first (``switch`` does both)."""
    with transaction.atomic(using=_ddl()), connections[_ddl()].cursor() as cursor:
        # Waiting for the lock queues every bet behind it: give up after LOCK_TIMEOUT (a long report holds it)
        cursor.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_MS)}ms'")
        cursor.execute(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
        if is_partitioned():
            raise RuntimeError(f"{TABLE} is already partitioned")
        found = _definitions(cursor)
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        identity = cursor.fetchone()[0]
        next_id = 1
        if identity:
            cursor.execute("SELECT pg_sequence_last_value(%s::regclass)", [identity])
            last = cursor.fetchone()[0]
            next_id = 1 if last is None else last + 1
            cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id DROP IDENTITY")
        for name, _ in found["triggers"]:
            cursor.execute(f'DROP TRIGGER "{name}" ON {TABLE}')
        # the key on (id, created_at) becomes the primary key (lookups by id use its leading column)
        cursor.execute(
            f"ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_pkey, "
            f"ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY USING INDEX {KEY_INDEX}"
        )
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {HISTORY}")
        cursor.execute(f"ALTER INDEX {TABLE}_pkey RENAME TO {HISTORY}_pkey")
        for name, _ in found["indexes"]:
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{HISTORY}_{name.removeprefix(TABLE + "_")}"')
        cursor.execute(f"CREATE TABLE {TABLE} (LIKE {HISTORY} INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)")
        cursor.execute(f"CREATE SEQUENCE {TABLE}_id_seq START WITH {int(next_id)} OWNED BY {TABLE}.id")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {HISTORY} FOR VALUES FROM (MINVALUE) TO ({_literal(boundary)})"
        )
        cursor.execute(f"ALTER TABLE {HISTORY} DROP CONSTRAINT {RANGE_CHECK}")
        # the partitioned primary key and indexes adopt the history's matching indexes instead of building
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, created_at)")
        for _name, definition in found["indexes"]:
            cursor.execute(definition)  # read before the rename: it names the parent and the original index
        for name, definition in found["constraints"]:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in found["triggers"]:
            cursor.execute(definition)
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
        this_month = timezone.now().date().replace(day=1)
        until = max(boundary, this_month + relativedelta(months=months_ahead)) + relativedelta(months=1)
        created = _create_months(cursor, boundary, until)  # through the month ``months_ahead`` from now
        audit_log(
            using=_ddl(),
            actor=SystemActor("ledger_partition"),
            action="ledger.entries_partitioned",
            data={"boundary": boundary.isoformat(), "history": HISTORY, "partitions": created},
        )
    log.info("ledger entries partitioned by month from %s", boundary)
    return partitions()


def _create_months(cursor, start: date, until: date) -> list[str]:  # type: ignore[no-untyped-def]
    created, month = [], start
    while month < until:
        name = month_name(month)
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is None:
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {TABLE} "
                f"FOR VALUES FROM ({_literal(month)}) TO ({_literal(month + relativedelta(months=1))})"
            )
            created.append(name)
        month += relativedelta(months=1)
    return created


def switch(*, months_ahead: int = MONTHS_AHEAD, concurrently: bool = True) -> list[Partition]:
    """The whole switch: prepare online, then convert; the CHECK is removed again if the switch fails."""
    boundary = first_boundary()
    try:
        prepare(boundary, concurrently=concurrently)
        return convert(boundary, months_ahead=months_ahead)
    except Exception:
        abandon()
        raise


def extend(*, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Partitions through the month ``months_ahead`` months from now. On a plain table: nothing, except
    removing the range CHECK of a switch that failed and could not clean up after itself."""
    if not is_partitioned():
        abandon()
        return []
    with transaction.atomic(using=_ddl()), connections[_ddl()].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {DEFAULT} LIMIT 1) x")  # noqa: S608 (a constant)
        if cursor.fetchone()[0]:
            log.error("ledger: %s holds rows: a month partition was missing; move them before adding it", DEFAULT)
        this_month = timezone.now().date().replace(day=1)
        start = max([this_month, *(_upper_bound(p) for p in partitions())])
        created = _create_months(cursor, start, this_month + relativedelta(months=months_ahead + 1))
        if created:
            audit_log(
                using=_ddl(),
                actor=SystemActor("ledger_partitions_extend"),
                action="ledger.partitions_created",
                data={"partitions": created},
            )
        return created


def _upper_bound(partition: Partition) -> date:
    """Where a range partition ends (``FOR VALUES FROM (...) TO ('2027-01-01 00:00:00+00')``); the default
    partition and MAXVALUE bounds count as the distant past, as they never block a month."""
    match = re.search(r"TO \('(\d{4}-\d{2}-\d{2})", partition.bounds)
    return date.fromisoformat(match.group(1)) if match else date.min
