"""Who may see and redeliver the outbox's webhooks (granted by core/0002_roles)."""

OUTBOX_PERMISSIONS = {
    "Administrator": ("core.view_outboxevent", "core.view_outboxdelivery", "core.change_outboxdelivery"),
    "Support Agent": ("core.view_outboxevent", "core.view_outboxdelivery"),
}
