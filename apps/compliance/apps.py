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
        from apps.compliance import backtest

        backtest.register()  # the compliance.backtest resumable job
        from apps.compliance import sources

        sources.register()  # cases from KYC (level 3 required) and responsible gambling (a limit fully used)
        from apps.compliance import attachments

        attachments.register()  # the KYC orphan-file sweep leaves case attachments alone
        from apps.compliance import demo
        from apps.core.demo import register_seeder

        register_seeder("compliance", demo.seed, order=60)  # after the players (20) and their KYC levels (40)
        from apps.compliance import evaluation, rulebook

        rulebook.register()  # the compliance.rule_publish maker-checker kind (a second person publishes a rule)
        evaluation.register()  # the compliance.rules posting consumer (deposits and withdrawal requests only)
