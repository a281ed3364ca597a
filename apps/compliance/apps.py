from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    label = "compliance"
    verbose_name = "AML monitoring and cases"

    def ready(self) -> None:
        from apps.compliance import cases

        cases.register()  # the compliance.case_confirm maker-checker kind (a case closed as confirmed)
        from apps.compliance import workqueues
        from apps.compliance.player_section import player_cases_section
        from apps.players.page import register_section

        # not deferred: a deferred section's placeholder shows to every viewer (apps.players.page has no
        # visibility hook yet); this one's context is None before any query for staff outside compliance
        register_section("admin/compliance/player_section.html", player_cases_section)
        workqueues.register()  # the start page's case queues (compliance roles only)
