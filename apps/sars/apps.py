from django.apps import AppConfig


class SarsConfig(AppConfig):
    """Suspicious activity reports drafted from cases, approved by a second person, exported as goAML XML (issue 17)."""

    name = "apps.sars"
    label = "sars"
    verbose_name = "Suspicious activity reports"

    def ready(self) -> None:
        from apps.sars import services

        services.register()  # the sars.sar_approve maker-checker kind (a second person approves a report)

        from apps.core.demo import register_seeder
        from apps.sars import demo

        register_seeder("sars", demo.seed, order=70)  # after the AML demo cases (60)
