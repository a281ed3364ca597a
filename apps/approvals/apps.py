from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    """Maker-checker for every app: it registers no kinds of its own; the owning apps register theirs in their
    ``ready()`` (apps.approvals.registry.register_kind)."""

    name = "apps.approvals"
    label = "approvals"
    verbose_name = "Approvals (maker-checker)"
