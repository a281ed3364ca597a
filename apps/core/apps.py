from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django_structlog import signals

        from apps.core.logging import bind_client_ip

        signals.bind_extra_request_metadata.connect(bind_client_ip, dispatch_uid="pitboss-client-ip")
