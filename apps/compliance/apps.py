from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "apps.compliance"
    label = "compliance"
    verbose_name = "AML monitoring and cases"

    def ready(self) -> None:
        from apps.compliance import cases

        cases.register()  # the compliance.case_confirm maker-checker kind (a case closed as confirmed)
