from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models, transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.audit.services import AuditActor, audit_log
from apps.core.errors import ValidationFailed
from backoffice.schedule import SCHEDULE, ScheduledTask

# Apps that declare beat entries of their own in code (the reports' schedules, from their report types) register
# a function giving them; ``schedule_install`` installs them with the fixed SCHEDULE.
_SCHEDULE_PROVIDERS: list[Callable[[], Iterable[ScheduledTask]]] = []


def register_schedule_provider(provider: Callable[[], Iterable[ScheduledTask]]) -> None:
    if provider not in _SCHEDULE_PROVIDERS:
        _SCHEDULE_PROVIDERS.append(provider)


def scheduled_entries() -> list[ScheduledTask]:
    """SCHEDULE and every registered app's entries: what ``install_schedule`` installs."""
    entries = list(SCHEDULE)
    for provider in _SCHEDULE_PROVIDERS:
        entries.extend(provider())
    return entries


@transaction.atomic
def config_save(*, actor: AuditActor | None, obj: models.Model, changed: list[str], created: bool) -> models.Model:
    """Save a configuration object edited in the admin (beat schedule, ...) and audit the changed fields."""
    obj.save()
    values = {name: getattr(obj, name, None) for name in changed}
    values = {k: (str(v) if isinstance(v, models.Model) else v) for k, v in values.items()}
    meta = obj._meta
    audit_log(
        actor=actor,
        action=f"{meta.app_label}.{meta.model_name}.{'created' if created else 'changed'}",
        target=obj,
        data=values,
    )
    return obj


@transaction.atomic
def periodic_task_run_now(*, actor: AuditActor | None, task: PeriodicTask) -> None:
    """Send a beat entry's task now, with its arguments and queue, after the audit row commits (the admin's "Run
    selected tasks"). An unknown task name is refused and nothing is sent."""
    import json

    from celery import current_app

    current_app.loader.import_default_modules()
    function = current_app.tasks.get(task.task)
    if function is None:
        raise ValidationFailed(f"{task.name}: no task named {task.task!r} is registered.")
    args, kwargs = json.loads(task.args or "[]"), json.loads(task.kwargs or "{}")
    options = {"queue": task.queue} if task.queue else {}
    audit_log(actor=actor, action="django_celery_beat.periodictask.run", target=task, data={"task": task.task})
    transaction.on_commit(
        lambda: function.apply_async(args=args, kwargs=kwargs, headers={"periodic_task_name": task.name}, **options)
    )


def _timing(entry: ScheduledTask) -> dict[str, object]:
    """The entry's schedule as PeriodicTask fields: an interval or a crontab, the other one cleared."""
    if entry.every_seconds:
        interval, _ = IntervalSchedule.objects.get_or_create(every=entry.every_seconds, period=IntervalSchedule.SECONDS)
        return {"interval": interval, "crontab": None}
    return {"crontab": _crontab(entry), "interval": None}


def _crontab(entry: ScheduledTask) -> CrontabSchedule:
    parts = entry.crontab.split()
    if len(parts) != 5:
        raise ValidationFailed(f"{entry.name}: crontab needs 5 fields, got {entry.crontab!r}")
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone="UTC",
    )
    return schedule


@transaction.atomic
def schedule_install(*, actor: AuditActor | None, reset: bool = False) -> dict[str, list[str]]:
    """Install the beat schedule declared in ``backoffice/schedule.py``; idempotent.

    Missing entries are created. An existing entry keeps staff's changes to its timing and enabled flag
    unless ``reset``; its task name, queue and arguments always follow the code.
    """
    import json

    outcome: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    for entry in scheduled_entries():
        timing = _timing(entry)
        task = PeriodicTask.objects.filter(name=entry.name).first()
        wanted: dict[str, object] = {
            "task": entry.task,
            "queue": entry.queue,
            "kwargs": json.dumps(entry.kwargs, sort_keys=True),
            "expire_seconds": entry.expire_seconds,
        }
        if task is None:
            PeriodicTask.objects.create(name=entry.name, description=entry.description, **timing, **wanted)
            outcome["created"].append(entry.name)
            continue
        if reset:
            wanted.update({**timing, "enabled": True})
        changed = {k: v for k, v in wanted.items() if getattr(task, k) != v}
        if changed:
            for k, v in changed.items():
                setattr(task, k, v)
            task.save()
            outcome["updated"].append(entry.name)
        else:
            outcome["unchanged"].append(entry.name)
    if outcome["created"] or outcome["updated"]:
        audit_log(
            actor=actor,
            action="schedule.installed",
            data={"created": outcome["created"], "updated": outcome["updated"], "reset": reset},
        )
    return outcome
