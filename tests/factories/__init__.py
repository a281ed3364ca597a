from __future__ import annotations

from typing import Any

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.staff.models import StaffUser

PASSWORD = "correct horse battery staple 42"


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffUser
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@staff.invalid")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_staff = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if create and extracted:
            from django.contrib.auth.models import Group

            self.groups.set(Group.objects.filter(name__in=extracted))

    @factory.post_generation
    def device(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted is not False:
            TOTPDevice.objects.create(user=self, name="Authenticator app", confirmed=True)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "players.Brand"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"brand-{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())


def _default_brand() -> Any:
    from apps.players.models import Brand

    return Brand.objects.default()


class PlayerFactory(factory.django.DjangoModelFactory):
    """A GB player of 30 by default, of the default brand; identity keys computed as the service would.

    Verified to KYC level 2 (identity and address) unless ``kyc_level=`` says otherwise: most tests are about
    something else, and withdrawals need level 2 everywhere (apps.kyc)."""

    class Meta:
        model = "players.Player"

    brand = factory.LazyFunction(_default_brand)
    external_id = factory.Sequence(lambda n: f"P{n:07d}")
    username = factory.Sequence(lambda n: f"player{n}")
    email = factory.Sequence(lambda n: f"player{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.LazyFunction(lambda: __import__("datetime").date(1996, 5, 17))
    country = "GB"
    currency = "GBP"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        from apps.kyc.models import KycProfile
        from apps.players.services import _set_identity_keys

        kyc_level = kwargs.pop("kyc_level", 2)
        player = model_class(*args, **kwargs)
        _set_identity_keys(player)
        player.save()
        KycProfile.objects.create(player=player, level=kyc_level)
        return player
