from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models


class StaffUser(AbstractUser):
    """A member of the operator's staff. Players are not users of this model (they live in apps.players)."""

    # Staff are people with accountable identities: an e-mail is required and unique.
    email = models.EmailField("e-mail address", unique=True)

    class Meta:
        db_table = "staff_user"
        verbose_name = "staff member"
        verbose_name_plural = "staff members"
        ordering = ("username",)
        permissions = [("reset_second_factor", "Can reset a staff member's second factor")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def audit_identity(self) -> tuple[str, str, str]:
        return ("staff", str(self.pk), self.username)


def staff_of(request: Any) -> StaffUser:
    """The signed-in staff member of an admin request (the admin site has already required one)."""
    user = request.user
    assert isinstance(user, StaffUser)
    return user
