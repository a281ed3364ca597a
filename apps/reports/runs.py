"""Report runs: ask for one, run it, cancel, re-run, download, record its filing; the sweeps that recover a run
whose worker died and that delete files past retention. The one way in for the admin, the command, the schedule
and the tasks (docs/REPORTS.md, "Runs").

A run's life: ``queued`` (asked; its task sent after the commit) -> ``running`` (claimed by a worker: attempts + 1,
heartbeat every few seconds while it writes) -> ``succeeded`` (file stored with its size and SHA-256) |
``failed`` (error recorded) | ``cancelled`` (asked by staff: a queued run at once, a running one at its next
progress step). A worker killed mid-run leaves ``running`` with a heartbeat that stops: the beat sweep
(``runs_resume_stalled``, every minute) sends it again, at most REPORTS_MAX_ATTEMPTS times in all, then fails it
saying so; a late duplicate delivery finds the run claimed (heartbeat fresh) or finished and does nothing.

Reading: one READ ONLY, REPEATABLE READ transaction on the reports alias (the replica when configured) for the
whole run, with ``work_mem`` raised for the session (ECOSYSTEM: hash aggregates spill at 4 MB). Progress and
the heartbeat are written on a separate short connection to the primary, so they are seen while the run's
snapshot is open (and a replica, read only, would refuse them anyway).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time as clock
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO, Any

import psycopg
import structlog
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError, connections, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.audit.services import SYSTEM, AuditActor, audit_log
from apps.reports.context import Cancelled, RunContext
from apps.reports.errors import (
    ReportFileCorrupt,
    ReportNotPermitted,
    ReportParamsInvalid,
    ReportRunNotFound,
    ReportRunState,
    ReportUnknown,
)
from apps.reports.formats import CONTENT_TYPES, WRITERS, Meta, _Counter
from apps.reports.models import FINISHED_STATES, ReportRun, RunState
from apps.reports.router import reading_reports
from apps.reports.types import ReportType, Table, report_type, report_types

log = structlog.get_logger(__name__)

TASK = "apps.reports.tasks.report_execute"
PROGRESS_EVERY_SECONDS = 1.0


# --- who sees what


def runnable_types(user: Any) -> dict[str, ReportType]:
    """The report types ``user`` may ask for and download (by each type's permission)."""
    return {code: kind for code, kind in report_types().items() if user.has_perm(kind.permission)}


def runs_visible_to(user: Any, queryset: QuerySet[ReportRun] | None = None) -> QuerySet[ReportRun]:
    """The runs of the types ``user`` may run: a KYC Officer never sees that a GGR report was run, and nobody sees
    a run that included SAR figures without sars.view_sar."""
    queryset = ReportRun.objects.all() if queryset is None else queryset
    codes = list(runnable_types(user))
    queryset = queryset.filter(report__in=codes)
    if not user.has_perm("sars.view_sar"):
        queryset = queryset.exclude(params__contains={"include_sars": "yes"})  # @>: false, not NULL, without the key
    return queryset


def run_get(user: Any, pk: Any) -> ReportRun:
    try:
        return runs_visible_to(user).get(pk=int(pk))
    except (ReportRun.DoesNotExist, TypeError, ValueError):
        raise ReportRunNotFound("No such report run.") from None


def _type_for(user: Any | None, code: str) -> ReportType:
    kind = report_type(code)
    if kind is None:
        raise ReportUnknown(f"There is no report {code!r}.", fields={"report": "Unknown report."})
    if user is not None and not user.has_perm(kind.permission):
        raise ReportNotPermitted(f"You may not run the report {kind.title!r}.")
    return kind


def _actor(user: Any | None) -> AuditActor:
    return user if user is not None else SYSTEM


def _values(kind: ReportType, run: ReportRun) -> dict[str, Any]:
    values, _texts, errors = kind.clean(run.params, today=timezone.localdate(run.queued_at))
    if errors:  # stored canonical texts always clean; a type changed since would say so here
        raise ReportParamsInvalid("The run's parameters no longer fit the report.", fields=errors)
    return values


# --- asking


def run_request(
    *,
    actor: Any | None,
    report: str,
    params: Mapping[str, Any],
    format: str = "csv",
    source: str = "admin",
    schedule: str = "",
    rerun_of: ReportRun | None = None,
    today: date | None = None,
    send: bool = True,
) -> ReportRun:
    """Ask for a run of ``report`` with ``params`` (texts, as a form or a command line gives them) in ``format``.
    ``actor`` None: a schedule or the command line (the permission is the operator's). Every error at once
    (``report_params_invalid`` with fields); nothing is stored on a refusal. The task is sent after the commit
    (``send=False``: the caller runs it itself, as ``manage.py report_run`` does)."""
    kind = _type_for(actor, report)
    errors: dict[str, str] = {}
    fmt = str(format or "").lower()
    if fmt not in kind.formats:
        errors["format"] = f"{kind.title} is offered as {', '.join(kind.formats)}."
    raw = {str(name): "" if value is None else str(value) for name, value in params.items()}
    values, texts, param_errors = kind.clean(raw, today=today or timezone.localdate())
    errors.update(param_errors)
    if not param_errors:
        errors.update(kind.check(values, actor))
    if errors:
        raise ReportParamsInvalid(f"{kind.title}: check the parameters.", fields=errors)
    with transaction.atomic():
        run = ReportRun.objects.create(
            report=kind.code,
            params=texts,
            format=fmt,
            requested_by=actor,
            source=source,
            schedule=schedule[:200],
            rerun_of=rerun_of,
        )
        audit_log(
            actor=_actor(actor),
            action="report.requested",
            target=run,
            data={"report": kind.code, "params": texts, "format": fmt, "source": source, "schedule": schedule},
        )
        if send:
            _send_after_commit(run.pk)
    return run


def run_rerun(*, actor: Any, run: ReportRun) -> ReportRun:
    """The same report, parameters and format again (a closed period over the same data gives the same bytes)."""
    return run_request(
        actor=actor,
        report=run.report,
        params=run.params,
        format=run.format,
        source="rerun",
        rerun_of=run,
        today=timezone.localdate(run.queued_at),
    )


def run_cancel(*, actor: Any, run: ReportRun) -> ReportRun:
    """Cancel: a queued run at once; a running one stops at its next progress step (its file is not kept)."""
    _type_for(actor, run.report)
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run.pk)
        if run.state in FINISHED_STATES:
            raise ReportRunState(f"{run} is already {run.get_state_display().lower()}.")
        run.cancel_requested = True
        fields = ["cancel_requested"]
        if run.state == RunState.QUEUED:
            run.state = RunState.CANCELLED
            run.finished_at = timezone.now()
            fields += ["state", "finished_at"]
        run.save(update_fields=fields)
        audit_log(actor=actor, action="report.cancelled", target=run, data={"state": run.state})
    return run


def run_mark_filed(*, actor: Any, run: ReportRun, reference: str) -> ReportRun:
    """Record that this run's file was sent to the regulator (the due-date calendar then reads the period filed)."""
    _type_for(actor, run.report)
    reference = str(reference or "").strip()
    if not reference or len(reference) > 100 or "\x00" in reference:
        raise ReportParamsInvalid(
            "Give the regulator's reference (1 to 100 characters).", fields={"reference": "Required."}
        )
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run.pk)
        if run.state != RunState.SUCCEEDED or run.filed_at is not None:
            raise ReportRunState(f"{run} can be marked filed only once, after it succeeded.")
        run.filed_at, run.filed_by, run.filing_reference = timezone.now(), actor, reference
        run.save(update_fields=["filed_at", "filed_by", "filing_reference"])
        audit_log(actor=actor, action="report.filed", target=run, data={"reference": reference})
    return run


def _send_after_commit(run_id: int, countdown: float | None = None) -> None:
    from apps.reports.tasks import report_execute

    def send() -> None:
        try:
            report_execute.apply_async((run_id,), countdown=countdown)
        except Exception:  # broker down: the run stays queued, the sweep sends it again
            log.warning("report_send_failed", run=run_id)

    transaction.on_commit(send, robust=True)


# --- running


class _Progress:
    """Progress, row count and heartbeat on a short connection of its own to the primary (autocommit), at most
    once a second; and whether cancel was asked."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._last = 0.0
        self._cancel = False
        params = connections["default"].get_connection_params()
        keep = ("dbname", "user", "password", "host", "port", "sslmode", "options")
        self._conn = psycopg.connect(**{key: params[key] for key in keep if params.get(key)}, autocommit=True)

    def update(self, done: int, total: int, rows: int, *, force: bool = False) -> None:
        now = clock.monotonic()
        if not force and now - self._last < PROGRESS_EVERY_SECONDS:
            return
        self._last = now
        row = self._conn.execute(
            "UPDATE reports_reportrun SET progress_done = %s, progress_total = %s, row_count = %s,"
            " heartbeat_at = now() WHERE id = %s RETURNING cancel_requested",
            (done, total, rows, self.run_id),
        ).fetchone()
        self._cancel = bool(row and row[0])

    def cancelled(self) -> bool:
        """As of the last update (a second old at most while rows are written)."""
        return self._cancel

    def close(self) -> None:
        self._conn.close()


def _claim(run_id: int) -> ReportRun | None:
    """Take the run for this worker: a queued run, or a running one whose heartbeat stopped (its worker died).
    None: finished, cancelled, or alive in another worker (a duplicate delivery)."""
    stale = timezone.now() - timedelta(seconds=settings.REPORTS_STALL_SECONDS)
    with transaction.atomic():
        run = ReportRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None or run.state in FINISHED_STATES:
            return None
        if run.state == RunState.RUNNING and run.heartbeat_at is not None and run.heartbeat_at > stale:
            return None
        if run.cancel_requested:
            run.state, run.finished_at = RunState.CANCELLED, timezone.now()
            run.save(update_fields=["state", "finished_at"])
            audit_log(actor=SYSTEM, action="report.cancelled", target=run, data={"state": run.state})
            return None
        if run.attempts >= settings.REPORTS_MAX_ATTEMPTS:
            _fail(run, f"Stopped after {run.attempts} attempts: the worker was lost each time.")
            return None
        run.state = RunState.RUNNING
        run.attempts += 1
        run.started_at = run.heartbeat_at = timezone.now()
        run.progress_done = run.progress_total = 0
        run.row_count = 0
        run.save(
            update_fields=[
                "state",
                "attempts",
                "started_at",
                "heartbeat_at",
                "progress_done",
                "progress_total",
                "row_count",
            ]
        )
        audit_log(actor=SYSTEM, action="report.started", target=run, data={"attempt": run.attempts})
    return run


def _fail(run: ReportRun, error: str) -> None:
    run.state, run.finished_at, run.error = RunState.FAILED, timezone.now(), error[:4000]
    run.save(update_fields=["state", "finished_at", "error"])
    audit_log(actor=SYSTEM, action="report.failed", target=run, data={"error": error[:500]})


class _Hashing:
    """A binary file that hashes and counts what is written to it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()

    # what io.TextIOWrapper and zipfile ask of a file object
    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False

    def tell(self) -> int:
        return self.size


@dataclass
class Output:
    path: str
    size: int
    sha256: str
    rows: int


def produce(kind: ReportType, values: dict[str, Any], texts: dict[str, str], fmt: str, ctx: RunContext) -> Output:
    """Write the report's file to a temporary path (the caller stores or removes it). Used by the runner and,
    inside a test's transaction, by tests."""
    counter = _Counter(on_rows=ctx.rows_written)
    meta = Meta(title=kind.title, report=kind.code, params=texts, created=_created(values))
    handle, path = tempfile.mkstemp(prefix=f"report-{kind.code}-", suffix=f".{fmt}")
    try:
        with os.fdopen(handle, "wb") as raw:
            out = _Hashing(raw)
            if fmt == "xml":
                tables = [
                    Table(t.name, t.title, t.columns, list(counter.wrap(t.rows)), t.note)
                    for t in kind.tables(ctx, values)
                ]
                out.write(kind.xml(ctx, values, tables))
            else:
                WRITERS[fmt](out, meta, kind.tables(ctx, values), counter)  # type: ignore[arg-type]
    except BaseException:
        os.unlink(path)
        raise
    ctx.row_count = counter.rows
    return Output(path=path, size=out.size, sha256=out.sha.hexdigest(), rows=counter.rows)


def _created(values: dict[str, Any]) -> date:
    """The file's fixed creation date: the last day of the report's period (a closed period's file never changes)."""
    ends = [value.end for value in values.values() if hasattr(value, "end") and isinstance(value.end, date)]
    days = [value for value in values.values() if isinstance(value, date)]
    candidates = ends + days
    return max(candidates) if candidates else date(2000, 1, 1)


def storage() -> FileSystemStorage:
    return FileSystemStorage(location=settings.REPORTS_FILES_ROOT)


def file_name_for(run: ReportRun) -> str:
    slug = "-".join(re.sub(r"[^A-Za-z0-9]+", "", str(value)) for value in run.params.values())[:80]
    return f"{run.report}/{run.pk}-{run.report}{'-' + slug if slug else ''}.{run.format}"


def run_execute(run_id: int) -> ReportRun | None:
    """Run a queued run (the task's body). None when there was nothing to do (a duplicate delivery, a finished
    or cancelled run)."""
    run = _claim(run_id)
    if run is None:
        return None
    kind = report_type(run.report)
    if kind is None:
        _fail(run, f"The report type {run.report!r} no longer exists.")
        return run
    started = clock.monotonic()
    progress = _Progress(run.pk)
    output: Output | None = None
    try:
        values = _values(kind, run)
        with reading_reports() as alias:
            run.database = alias
            with transaction.atomic(using=alias):
                with connections[alias].cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.REPORTS_WORK_MEM])
                    cursor.execute(
                        "SELECT set_config('statement_timeout', %s, true)", [f"{settings.REPORTS_STATEMENT_TIMEOUT_MS}"]
                    )
                ctx = RunContext(
                    using=alias,
                    user=run.requested_by,
                    today=timezone.localdate(run.queued_at),
                    on_progress=lambda done, total, rows: progress.update(done, total, rows),
                    is_cancelled=progress.cancelled,
                )
                output = produce(kind, values, run.params, run.format, ctx)
        progress.update(1, 1, output.rows, force=True)
        name = file_name_for(run)
        store = storage()
        if store.exists(name):
            store.delete(name)  # an earlier attempt's file of the same run
        with open(output.path, "rb") as handle:
            stored = store.save(name, File(handle))
        with transaction.atomic():
            run.refresh_from_db(fields=["cancel_requested"])
            run.state = RunState.SUCCEEDED
            run.finished_at = timezone.now()
            run.file_name, run.file_size, run.sha256, run.row_count = stored, output.size, output.sha256, output.rows
            run.log = "\n".join([*ctx.lines, f"{output.rows} rows in {clock.monotonic() - started:.2f} s"])[:20000]
            run.error = ""
            run.save(
                update_fields=[
                    "state",
                    "finished_at",
                    "file_name",
                    "file_size",
                    "sha256",
                    "row_count",
                    "log",
                    "error",
                    "database",
                ]
            )
            audit_log(
                actor=SYSTEM,
                action="report.succeeded",
                target=run,
                data={"sha256": output.sha256, "size": output.size, "rows": output.rows, "database": alias},
            )
        log.info(
            "report_succeeded",
            run=run.pk,
            report=run.report,
            rows=output.rows,
            seconds=round(clock.monotonic() - started, 3),
        )
    except Cancelled:
        run.state, run.finished_at = RunState.CANCELLED, timezone.now()
        run.save(update_fields=["state", "finished_at", "database"])
        audit_log(actor=SYSTEM, action="report.cancelled", target=run, data={"state": run.state})
    except ReportParamsInvalid as exc:
        _fail(run, f"{exc.message} {exc.fields}")
    except OperationalError as exc:
        # The database went away (the replica down, a failover, a statement timeout): try again later, within
        # the attempts allowed; the run stays visible as queued meanwhile.
        log.warning("report_database_error", run=run.pk, error=str(exc)[:300])
        if run.attempts < settings.REPORTS_MAX_ATTEMPTS:
            run.state, run.error = RunState.QUEUED, f"Attempt {run.attempts}: the database failed ({exc})"[:4000]
            run.save(update_fields=["state", "error"])
            _send_after_commit(run.pk, countdown=settings.REPORTS_RETRY_SECONDS)
        else:
            _fail(run, f"The database failed on each of {run.attempts} attempts: {exc}")
    except Exception as exc:
        log.exception("report_failed", run=run.pk, report=run.report)
        _fail(run, f"{type(exc).__name__}: {exc}")
    finally:
        progress.close()
        if output is not None and os.path.exists(output.path):
            os.unlink(output.path)
    return run


# --- reading the file


@dataclass
class Download:
    run: ReportRun
    name: str
    content_type: str
    handle: Any


def run_download(*, actor: Any, run: ReportRun) -> Download:
    """The run's file for ``actor``: the report's download permissions (more for more sensitive parameters), a
    file that still exists, and whose bytes still hash to the recorded SHA-256 (else ``report_file_corrupt``,
    nothing served). Audited."""
    kind = _type_for(actor, run.report)
    needed = kind.download_permissions(_values(kind, run))
    if not all(actor.has_perm(permission) for permission in needed):
        raise ReportNotPermitted("You may not download this report.")
    if run.state != RunState.SUCCEEDED or not run.file_name or run.file_deleted_at is not None:
        raise ReportRunState(f"{run} has no file to download.")
    store = storage()
    digest = hashlib.sha256()
    with store.open(run.file_name, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != run.sha256:
        audit_log(actor=actor, action="report.file_corrupt", target=run, data={"expected": run.sha256})
        raise ReportFileCorrupt(f"{run}: the stored file does not match its SHA-256; it is not served.")
    audit_log(actor=actor, action="report.downloaded", target=run, data={"sha256": run.sha256})
    name = os.path.basename(run.file_name)
    return Download(run=run, name=name, content_type=CONTENT_TYPES[run.format], handle=store.open(run.file_name, "rb"))


# --- sweeps


def runs_resume_stalled() -> list[int]:
    """Beat, every minute: a running run whose heartbeat is older than REPORTS_STALL_SECONDS (its worker died) and
    a queued run older than that (its task lost with the broker) are sent again; ``_claim`` decides (the
    attempts bound included). The ids sent."""
    stale = timezone.now() - timedelta(seconds=settings.REPORTS_STALL_SECONDS)
    ids = list(
        ReportRun.objects.filter(state=RunState.RUNNING, heartbeat_at__lt=stale).values_list("pk", flat=True)
    ) + list(ReportRun.objects.filter(state=RunState.QUEUED, queued_at__lt=stale).values_list("pk", flat=True))
    for run_id in sorted(ids):
        _send_after_commit(run_id)
    return sorted(ids)


def runs_purge_expired(*, today: date | None = None) -> int:
    """Beat, daily: delete the files of runs finished more than REPORTS_RETENTION_DAYS ago (the run rows stay, with
    their SHA-256, so a file kept elsewhere can still be proved). A run marked filed keeps its file as long."""
    limit = timezone.now() - timedelta(days=settings.REPORTS_RETENTION_DAYS)
    store = storage()
    purged = 0
    for run in ReportRun.objects.filter(finished_at__lt=limit, file_deleted_at__isnull=True).exclude(file_name=""):
        with transaction.atomic():
            if store.exists(run.file_name):
                store.delete(run.file_name)
            run.file_deleted_at = timezone.now()
            run.save(update_fields=["file_deleted_at"])
            audit_log(actor=SYSTEM, action="report.file_purged", target=run, data={"sha256": run.sha256})
        purged += 1
    return purged
