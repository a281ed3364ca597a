"""Changes to jurisdictions, rule packs and IP overrides: saved, versioned and audited in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import connection, models, transaction

from apps.audit.services import AuditActor, audit_log


def geo_config_bump() -> None:
    """Move the configuration version: every worker reloads its rules on its next check.

    The new number comes from a sequence (never reused, even when this transaction rolls back).
    """
    with connection.cursor() as cursor:
        cursor.execute("UPDATE geo_geoconfigversion SET version = nextval('geo_config_version_seq') WHERE id = 1")
        if cursor.rowcount == 0:
            cursor.execute(
                "INSERT INTO geo_geoconfigversion (id, version) VALUES (1, nextval('geo_config_version_seq'))"
            )


def _value(v: Any) -> Any:
    return str(v) if isinstance(v, models.Model) else v


@transaction.atomic
def geo_config_save(*, actor: AuditActor | None, obj: models.Model, created: bool, changed: list[str]) -> models.Model:
    obj.full_clean()
    obj.save()
    geo_config_bump()
    meta = obj._meta
    audit_log(
        actor=actor,
        action=f"geo.{meta.model_name}.{'created' if created else 'changed'}",
        target=obj,
        data={name: _value(getattr(obj, name, None)) for name in changed},
    )
    return obj


@transaction.atomic
def geo_config_delete(*, actor: AuditActor | None, obj: models.Model) -> None:
    meta = obj._meta
    audit_log(actor=actor, action=f"geo.{meta.model_name}.deleted", target=obj, data={"was": str(obj)})
    obj.delete()
    geo_config_bump()
