from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "Platform API"

    def ready(self) -> None:
        from apps.api import schema  # noqa: F401  registers the OpenAPI auth extension
        from apps.api.services import webhook_subscribers, webhook_subscribers_many
        from apps.core.outbox import set_subscribers

        set_subscribers(webhook_subscribers, many=webhook_subscribers_many)
