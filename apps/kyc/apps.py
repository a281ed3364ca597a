from django.apps import AppConfig


class KycConfig(AppConfig):
    name = "apps.kyc"
    label = "kyc"
    verbose_name = "Identity verification (KYC)"

    def ready(self) -> None:
        pass
