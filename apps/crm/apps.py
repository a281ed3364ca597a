from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "apps.crm"
    label = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from apps.crm import criteria

        criteria.register_builtins()
        criteria.register_declared()  # other apps' <app>/segment_criteria.py (bonuses: the bonus count)

        from apps.core.demo import register_seeder
        from apps.crm import demo

        register_seeder("crm", demo.seed, order=67)  # after the demo bonus templates (65)
