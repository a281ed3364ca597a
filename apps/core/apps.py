from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django_structlog import signals

        from apps.core.logging import bind_client_ip

        signals.bind_extra_request_metadata.connect(bind_client_ip, dispatch_uid="pitboss-client-ip")

        from django.db.models.signals import post_migrate

        from apps.core.dbroles import grant_after_migrate

        # after every migrate, as the owner: the application's role gets exactly its privileges (dbroles.py)
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="pitboss-app-role-grants")
        from apps.core import (
            checks,  # noqa: F401  (registers the database role check)
            metrics,
        )

        metrics.register()  # Redis degradation and 503s per dependency, on /metrics

        from apps.core import workqueues

        workqueues.register()  # the start page's queues: dead webhooks (each app registers its own)
