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

        # deferred, and no placeholder at all for a viewer outside compliance (the tipping-off wall)
        register_section(
            "admin/compliance/player_section.html",
            player_cases_section,
            deferred=True,
            title="AML cases",
            visible=lambda request: cases.sees_cases(request.user),
        )
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
