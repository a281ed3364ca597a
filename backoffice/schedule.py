"""The beat schedule, declared in code and installed into django-celery-beat by ``manage.py install_schedule``.

Staff may pause or retime an entry in the admin; ``install_schedule`` leaves a changed schedule alone unless run
with ``--reset`` (it always (re)creates missing entries and fixes the task name and queue).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScheduledTask:
    name: str
    task: str
    crontab: str  # "minute hour day_of_month month_of_year day_of_week"; "" with every_seconds
    queue: str = "default"
    kwargs: dict[str, object] = field(default_factory=dict)
    description: str = ""
    every_seconds: int | None = None  # an interval instead of a crontab, for what runs more than once a minute
    expire_seconds: int | None = None  # a run not started within this long is dropped (the next one comes)


SCHEDULE: tuple[ScheduledTask, ...] = (
    ScheduledTask(
        name="Deliver the outbox's webhooks",
        task="apps.core.tasks.outbox_deliver",
        crontab="* * * * *",
        description="Each event is also sent at once; this sweep retries and catches up after a Redis outage.",
    ),
    ScheduledTask(
        name="Resume jobs whose worker was lost",
        task="apps.core.tasks.jobs_resume_stalled",
        crontab="* * * * *",
        description="A resumable job (the nightly reconciliation, later reports and re-screens) with no slice "
        "committed for JOB_STALL_SECONDS lost its worker: its next slice is sent again (apps/core/jobs.py).",
    ),
    ScheduledTask(
        name="Expire KYC documents",
        task="apps.kyc.tasks.kyc_documents_expire",
        crontab="10 3 * * *",
        description="Approved documents past their expiry date are expired (the level they carried drops at once); "
        "those expiring within 30 days are announced to the platform once (kyc.document_expiring).",
    ),
    ScheduledTask(
        name="Discard orphaned KYC files",
        task="apps.kyc.tasks.kyc_discard_orphan_files",
        crontab="40 3 * * *",
        description="Deletes document files no row names, older than an hour: what a process stored before dying "
        "ahead of its commit (a rolled-back upload deletes its own file at once).",
    ),
    ScheduledTask(
        name="Note overdue KYC requirements",
        task="apps.kyc.tasks.kyc_requirements_overdue",
        crontab="*/15 * * * *",
        description="An open requirement past its due date restricts deposits and play through can() at once; this "
        "records it and tells the platform (kyc.requirement_overdue), once per requirement.",
    ),
    ScheduledTask(
        name="Raise AML cases at risk and breached",
        task="apps.compliance.tasks.case_sla_sweep",
        crontab="* * * * *",
        queue="compliance",
        expire_seconds=55,
        description="Open cases past their at-risk point (75% of the SLA's working time by default) or their due "
        "time, waiting ones excepted, are marked and escalated: at risk to the inbox's lead, breached to the MLRO.",
    ),
    ScheduledTask(
        name="Sweep the AML rules no posting triggers",
        task="apps.compliance.tasks.rules_sweep",
        crontab="*/10 * * * *",
        queue="compliance",
        description="Country mismatch, shared device, IP or instrument, and bonus-abuse rules over recent logins, "
        "deposits with a payment instrument and bonus flags (the posting rules run as the compliance.rules consumer "
        "of posting events, within seconds).",
    ),
    ScheduledTask(
        name="Re-screen players against changed watchlists",
        task="apps.screening.tasks.rescreen_pending",
        crontab="*/15 * * * *",
        queue="compliance",
        description="An import starts the re-screen as it commits; this starts it for a snapshot still waiting "
        "(the start lost to a Redis outage, or an import that landed as the running re-screen finished).",
    ),
    ScheduledTask(
        name="Convert, forfeit and expire bonuses",
        task="apps.bonuses.tasks.bonuses_process_due",
        crontab="",
        every_seconds=15,
        expire_seconds=60,
        description="A bonus whose wagering is met becomes cash (up to its maximum conversion); one a bet above "
        "the maximum voided is forfeited; one past its time to wager expires (its balance forfeited); an offer not "
        "claimed in time expires.",
    ),
    ScheduledTask(
        name="Refresh the dynamic CRM segments",
        task="apps.crm.tasks.crm_segments_refresh",
        crontab="30 2 * * *",
        description="Sends one refresh per dynamic segment: a fresh snapshot of its members (apps/crm), each in "
        "its own task and transaction.",
    ),
    ScheduledTask(
        name="Export approved SARs whose export was lost",
        task="apps.sars.tasks.sars_export_sweep",
        crontab="",
        every_seconds=300,
        expire_seconds=600,
        description="A SAR approved more than five minutes ago and still not exported (its export task lost to a "
        "broker outage at the approval, or a dead worker) is queued again; the export is idempotent.",
    ),
    ScheduledTask(
        name="Resume stalled CRM campaigns",
        task="apps.crm.tasks.crm_campaigns_resume",
        crontab="",
        every_seconds=60,
        expire_seconds=120,
        description="A running campaign whose job has done no chunk for two minutes (its worker killed, its task "
        "lost to a Redis outage) is queued again; it resumes after its last whole chunk and awards nobody twice.",
    ),
    ScheduledTask(
        name="Lapse unconfirmed limit increases",
        task="apps.responsible.tasks.limit_changes_lapse",
        crontab="*/15 * * * *",
        description="An increase not confirmed within the jurisdiction's window lapses; the old limit stays.",
    ),
    ScheduledTask(
        name="Seal the audit trail",
        task="apps.audit.tasks.audit_seal_pending",
        crontab="",
        every_seconds=2,
        expire_seconds=10,
        queue="compliance",
        description="Chains the audit events written since the last run (positions and keyed hashes), within "
        "seconds; writers never wait for it. Lag: /metrics pitboss_audit_seal_lag_seconds, /readyz audit_seal.",
    ),
    ScheduledTask(
        name="Verify the audit trail's hash chain",  # and checkpoint it (apps/audit/checkpoints.py)
        task="apps.audit.tasks.audit_verify_chain",
        crontab="15 2 * * *",
        queue="compliance",
        description="Walks the audit chain nightly against its checkpoints; a broken chain is logged as an error with "
        "the first bad row, an intact one gets a new signed checkpoint in AUDIT_CHECKPOINT_DIR.",
    ),
    ScheduledTask(
        name="Drain the posting events",
        task="apps.wallet.tasks.posting_events_drain",
        crontab="",
        every_seconds=5,
        expire_seconds=5,
        kwargs={"budget_seconds": 4.0},
        queue="compliance",
        description="Hands every posting to its durable consumers (limit flags; AML and bonus triggers later). "
        "Postings nudge a drain at once; this sweep catches up after a Redis or worker outage (each run drains for "
        "up to 4 s; runs in parallel share the work).",
    ),
    ScheduledTask(
        name="Expire stale approval requests",
        task="apps.approvals.tasks.approvals_expire_pending",
        crontab="20 * * * *",
        description="A maker-checker request nobody decided within APPROVAL_PENDING_EXPIRY_HOURS expires through its "
        "kind (an adjustment rejected, a withdrawal's first approval withdrawn, a lift request cleared).",
    ),
    ScheduledTask(
        name="Reconcile the ledger",
        task="apps.wallet.tasks.ledger_reconcile",
        crontab="45 1 * * *",
        description="Every player balance must equal the sum of its entries; differences are logged as errors.",
    ),
    ScheduledTask(
        name="Create the ledger's month partitions ahead",
        task="apps.wallet.tasks.ledger_partitions_extend",
        crontab="5 1 * * *",
        description="Only once the entries table is partitioned (manage.py ledger_partition --switch); keeps three "
        "months ahead and logs an error if rows fell into the default partition.",
    ),
    ScheduledTask(
        name="Delete expired staff sessions",
        task="apps.core.tasks.clear_expired_sessions",
        crontab="*/30 * * * *",
        description="Staff sessions expire after 30 idle minutes; this removes their rows.",
    ),
    ScheduledTask(
        name="Purge Celery task results older than 30 days",
        task="apps.core.tasks.purge_task_results",
        crontab="30 3 * * *",
        kwargs={"days": 30},
        description="Keeps the django-celery-results table bounded.",
    ),
    ScheduledTask(
        name="Add the postings to the operator day rollups",
        task="apps.reports.tasks.operator_day_drain",
        crontab="",
        every_seconds=5,
        expire_seconds=5,
        kwargs={"budget_seconds": 4.0},
        queue="reports",
        description="Sums the queued postings into reports_operator_day, thousands per transaction (the reports' "
        "long periods read these rows). Postings nudge a drain at once; this sweep catches up after a Redis or "
        "worker outage (runs in parallel share the work).",
    ),
    ScheduledTask(
        name="Check the operator day rollups against the ledger",
        task="apps.reports.tasks.reports_rollups_verify",
        crontab="20 2 * * *",
        kwargs={"days": 3},
        queue="reports",
        description="The last three local days' rollups against a direct aggregation of the ledger, to the cent; a "
        "difference is logged as an error (repair: manage.py reports_rollups_check --rebuild).",
    ),
    ScheduledTask(
        name="Resume report runs whose worker was lost",
        task="apps.reports.tasks.reports_resume_stalled",
        crontab="* * * * *",
        queue="reports",
        description="A running report whose heartbeat stopped for REPORTS_STALL_SECONDS, or a queued one whose task "
        "was lost with the broker, is sent again (at most REPORTS_MAX_ATTEMPTS attempts in all).",
    ),
    ScheduledTask(
        name="Catch up missed report schedules",
        task="apps.reports.tasks.reports_catch_up",
        crontab="17 * * * *",
        queue="reports",
        description="A scheduled regulatory report whose last closed period has no run (beat or the machine was "
        "down when it should have fired) is asked for now.",
    ),
    ScheduledTask(
        name="Take the month-end closes",
        task="apps.reports.tasks.reports_close_months",
        crontab="*/15 * * * *",
        queue="reports",
        description="Once a month's last day is over on every clock, the players' funds and open bets per "
        "jurisdiction and currency (and on a quarter's end its active accounts and registrations) are kept: the "
        "UK and MGA returns read them instead of the ledger (manage.py reports_close).",
    ),
    ScheduledTask(
        name="Delete report files past retention",
        task="apps.reports.tasks.reports_purge_expired",
        crontab="50 3 * * *",
        queue="reports",
        description="Files of runs finished more than REPORTS_RETENTION_DAYS ago; the runs and their SHA-256 stay.",
    ),
)
