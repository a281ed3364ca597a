from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """Sanctions and PEP screening: watchlist snapshots, name matching, hits and their review (issue 17)."""

    name = "apps.screening"
    label = "screening"
    verbose_name = "Sanctions and PEP screening"

    def ready(self) -> None:
        from apps.screening import wiring

        wiring.register()  # screening at registration and on a name or birth-date change (fail closed)
        from apps.screening import rescreen_job

        rescreen_job.register()  # the screening.rescreen resumable job (after each list change)
        from apps.screening import workqueues

        workqueues.register()  # the start page's "Screening hits to review" (compliance roles only)
        from apps.core.demo import register_seeder
        from apps.screening import demo

        register_seeder("screening", demo.seed, order=50)  # after the players (20) and KYC (40), before AML (60)
