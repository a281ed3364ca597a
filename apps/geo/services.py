"""Changes to jurisdictions, rule packs and IP overrides: saved, versioned and audited in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models import F

from apps.audit.services import AuditActor, audit_log
from apps.geo.models import GeoConfigVersion


def geo_config_bump() -> None:
    """Move the configuration version: every worker reloads its rules on its next check."""
    updated = GeoConfigVersion.objects.filter(id=1).update(version=F("version") + 1)
    if not updated:
        GeoConfigVersion.objects.create(id=1, version=2)


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
