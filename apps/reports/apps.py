from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Regulatory and financial reports: typed report definitions, runs on the ``reports`` queue with checksummed
    files, schedules, operator-level day rollups and the role-aware dashboard (issue 18). Reads every app, writes
    only its own tables (DESIGN §1). Docs: docs/REPORTS.md."""

    name = "apps.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from apps.reports import definitions, rollups

        definitions.register_all()
        rollups.register()  # the operator day rollups' batch consumer of the posting events

        from apps.reports import dashboard

        dashboard.register()  # the start page's dashboard panel (apps.core.dashboard)

        from apps.core.services import register_schedule_provider
        from apps.reports import schedules

        register_schedule_provider(schedules.declared)  # the report types' schedules, installed by install_schedule

        from apps.reports import workqueues

        workqueues.register()  # the start page's regulatory returns late or ready to file

        from apps.core.demo import register_seeder
        from apps.reports import demo

        register_seeder("reports", demo.seed, order=90)  # last: after every seeder that posts to the ledger
