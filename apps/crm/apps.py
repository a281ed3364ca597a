from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "apps.crm"
    label = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from apps.crm import criteria

        criteria.register_builtins()  # another app adds its own the same way (bonuses: the bonus count)
