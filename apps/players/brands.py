"""Brands are data: staff create and rename them in the admin; every change is audited."""

from __future__ import annotations

from django.db import transaction

from apps.audit.services import AuditActor, audit_log
from apps.players.models import Brand


@transaction.atomic
def brand_save(*, actor: AuditActor | None, brand: Brand) -> Brand:
    """Create or update ``brand`` (already validated by its form); the code never changes once created."""
    created = brand.pk is None
    if not created:
        old = Brand.objects.select_for_update().get(pk=brand.pk)
        brand.code = old.code
        changed = {
            f: {"old": getattr(old, f), "new": getattr(brand, f)}
            for f in ("name", "is_active")
            if getattr(old, f) != getattr(brand, f)
        }
        if not changed:
            return old
    brand.full_clean()
    brand.save()
    if created:
        audit_log(actor=actor, action="brand.created", target=brand, data={"code": brand.code, "name": brand.name})
    else:
        audit_log(actor=actor, action="brand.updated", target=brand, data=changed)
    return brand
