"""Who may see and redeliver the outbox's webhooks (granted by core/0002_roles). The outbox is plumbing (subscribers,
delivery errors, payloads told to the platform) and a dead webhook is an Administrator's work: staff/0006 took the
Support Agents' view of it back."""

OUTBOX_PERMISSIONS = {
    "Administrator": ("core.view_outboxevent", "core.view_outboxdelivery", "core.change_outboxdelivery"),
}
