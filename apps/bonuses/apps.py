from django.apps import AppConfig


class BonusesConfig(AppConfig):
    """Bonus templates, player bonuses and wagering on every posting (issue 15). Docs: docs/BONUSES.md."""

    name = "apps.bonuses"
    label = "bonuses"
    verbose_name = "Bonuses"

    def ready(self) -> None:
        from apps.bonuses import free_spins, templates, triggers, wagering

        templates.register()  # the bonuses.template_publish maker-checker kind (a big budget: a second person)
        wagering.register()  # wagering in the posting's statement, the maximum bet in can(), withdrawals forfeit
        triggers.register()  # deposit triggers: a durable consumer of deposits (after commit, off the posting path)
        free_spins.register()  # free-spin results: the wallet's hook for a win carrying a bonus id (in its transaction)

        from apps.bonuses.player_section import player_bonuses_section, sees_bonuses
        from apps.players.page import register_section

        register_section(
            "admin/bonuses/player_section.html",
            player_bonuses_section,
            deferred=True,
            title="Bonuses",
            visible=sees_bonuses,
        )
        from apps.bonuses import demo
        from apps.core.demo import register_seeder

        register_seeder("bonuses", demo.seed, order=65)  # after the players (20), KYC (40) and the AML demo (60)
