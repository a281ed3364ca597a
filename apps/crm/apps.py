from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "apps.crm"
    label = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from apps.crm import criteria

        criteria.register_builtins()
        criteria.register_declared()  # other apps' <app>/segment_criteria.py (bonuses: the bonus count)
