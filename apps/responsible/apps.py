from django.apps import AppConfig


class ResponsibleConfig(AppConfig):
    name = "apps.responsible"
    label = "responsible"
    verbose_name = "Responsible gambling"

    def ready(self) -> None:
        from apps.players.eligibility import (
            register_check,
            register_fact,
            register_instrument_check,
        )
        from apps.players.page import register_section
        from apps.players.services import register_profile_guard, register_registration_check
        from apps.responsible import checks
        from apps.responsible.coverage import instrument_denial
        from apps.responsible.identity_changes import hold_identity_edit
        from apps.responsible.selectors import player_rg_section
        from apps.wallet.events import register_consumer

        register_fact("rg_exclusions", checks.EXCLUSIONS_FACT)
        register_fact("rg_limits", checks.LIMITS_FACT)
        register_check(checks.check_exclusions)
        register_check(checks.check_limits)
        register_check(checks.check_national_register)  # last: asked only if nothing else refused
        # 80%-of-a-limit flags: a durable consumer of deposits and bets, off the posting path
        register_consumer(checks.LIMIT_FLAGS_CONSUMER, checks.raise_limit_flags, types=checks.FLAGGED_LIMITS)
        register_instrument_check(instrument_denial)  # an excluded person's card, on any account
        register_registration_check(checks.check_register_at_registration)
        register_profile_guard(hold_identity_edit)  # identity edits of an excluded person's accounts: 4 eyes
        register_section("admin/responsible/player_section.html", player_rg_section)

        from apps.core.serve import register_serve_option
        from apps.responsible.demo import SANDBOX_FLAG, SANDBOX_HELP, start_register_sandbox

        register_serve_option(SANDBOX_FLAG, start_register_sandbox, help=SANDBOX_HELP, demo_only=True)

        from apps.responsible import workqueues

        workqueues.register()  # the start page's queues: lifts, corrections, identity edits, flags, outages
