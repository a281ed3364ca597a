from django.apps import AppConfig


class SarsConfig(AppConfig):
    """Suspicious activity reports drafted from cases, approved by a second person, exported as goAML XML (issue 17)."""

    name = "apps.sars"
    label = "sars"
    verbose_name = "Suspicious activity reports"
