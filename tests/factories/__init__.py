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
