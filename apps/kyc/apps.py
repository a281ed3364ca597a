from django.apps import AppConfig


class KycConfig(AppConfig):
    name = "apps.kyc"
    label = "kyc"
    verbose_name = "Identity verification (KYC)"

    def ready(self) -> None:
        from apps.core.demo import register_seeder
        from apps.kyc import checks, demo, documents, levels
        from apps.players.eligibility import register_check, register_fact
        from apps.players.services import register_registered_hook
        from apps.wallet.choices import TransactionType
        from apps.wallet.events import register_observer

        register_fact("kyc_level", checks.LEVEL_FACT)
        register_fact("kyc_requirements", checks.REQUIREMENTS_FACT)
        register_check(checks.check_kyc)  # before responsible's national register (INSTALLED_APPS order)
        register_registered_hook(levels.on_registered)
        # deposits reaching the CDD or EDD threshold raise a requirement in the deposit's own transaction
        register_observer(levels.on_deposit, types=(TransactionType.DEPOSIT,))
        register_seeder("kyc", demo.seed, order=40)  # after the players (20)
        documents.register()  # the kyc.level_3 maker-checker kind (apps.approvals)
        from apps.kyc import (
            vendors_admin,  # noqa: F401 (registers the vendors' admin beside apps/kyc/admin/)
            workqueues,
        )
        from apps.kyc.admin import player_kyc_section
        from apps.players.page import register_section

        register_section("admin/kyc/player_section.html", player_kyc_section, deferred=True)
        workqueues.register()  # the start page's queues: reviews waiting (officers), overdue reviews (leads)
        from apps.wallet.services import register_withdrawal_refused_listener

        register_withdrawal_refused_listener(levels.on_withdrawal_refused)  # the first-withdrawal trigger
