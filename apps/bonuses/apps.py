from django.apps import AppConfig


class BonusesConfig(AppConfig):
    """Bonus templates, player bonuses and wagering on every posting (issue 15). Docs: docs/BONUSES.md."""

    name = "apps.bonuses"
    label = "bonuses"
    verbose_name = "Bonuses"
