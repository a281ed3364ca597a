from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """Sanctions and PEP screening: watchlist snapshots, name matching, hits and their review (issue 17)."""

    name = "apps.screening"
    label = "screening"
    verbose_name = "Sanctions and PEP screening"
