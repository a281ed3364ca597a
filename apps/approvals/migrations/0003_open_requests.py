"""Requests waiting for a second person before apps.approvals existed become pending approvals: a withdrawal's
first approval, a pending adjustment, a requested lift, an undecided correction. Idempotent (a target with a
pending approval of its kind is skipped); nothing is decided here."""

from django.db import migrations

PENDING = "pending"


def _open(apps, kind, app_label, model, rows):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Approval = apps.get_model("approvals", "Approval")
    target_ct, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    for row in rows:
        target_id, player_id, maker_id, reason, amount, currency, requested_at = row
        if Approval.objects.filter(kind=kind, target_ct=target_ct, target_id=str(target_id), state=PENDING).exists():
            continue
        Approval.objects.create(
            kind=kind,
            payload={model: target_id},
            target_ct=target_ct,
            target_id=str(target_id),
            player_id=player_id,
            maker_id=maker_id,
            reason=(reason or "requested before the approvals inbox")[:500],
            amount=amount,
            currency=currency or "",
            state=PENDING,
            requested_at=requested_at,
        )


def forwards(apps, schema_editor):
    Withdrawal = apps.get_model("wallet", "Withdrawal")
    Adjustment = apps.get_model("wallet", "Adjustment")
    Exclusion = apps.get_model("responsible", "Exclusion")
    ExclusionCorrection = apps.get_model("responsible", "ExclusionCorrection")
    withdrawals = Withdrawal.objects.filter(status="pending", first_approver__isnull=False).values_list(
        "pk", "player_id", "first_approver_id", "amount", "currency", "requested_at"
    )
    _open(
        apps,
        "wallet.withdrawal",
        "wallet",
        "withdrawal",
        [
            (pk, player, maker, "first approval of the withdrawal", amount, currency, at)
            for pk, player, maker, amount, currency, at in withdrawals
        ],
    )
    _open(
        apps,
        "wallet.adjustment",
        "wallet",
        "adjustment",
        Adjustment.objects.filter(status="pending").values_list(
            "pk", "player_id", "requested_by_id", "reason", "amount", "currency", "requested_at"
        ),
    )
    lifts = Exclusion.objects.filter(
        kind="operator", lift_requested_by__isnull=False, lift_approved_by__isnull=True
    ).values_list("pk", "player_id", "lift_requested_by_id", "lift_reason", "lift_requested_at")
    _open(
        apps,
        "responsible.lift",
        "responsible",
        "exclusion",
        [(pk, player, maker, reason, None, "", at) for pk, player, maker, reason, at in lifts],
    )
    corrections = ExclusionCorrection.objects.filter(approved__isnull=True).values_list(
        "pk", "exclusion__player_id", "requested_by_id", "reason", "requested_at"
    )
    _open(
        apps,
        "responsible.correction",
        "responsible",
        "exclusioncorrection",
        [(pk, player, maker, reason, None, "", at) for pk, player, maker, reason, at in corrections],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0002_roles"),
        ("wallet", "0007_hold_authority_adjustment_reason"),
        ("responsible", "0006_backfill_coverage"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
