from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from unfold.forms import AuthenticationForm as UnfoldAuthenticationForm
from unfold.widgets import BASE_INPUT_CLASSES

from apps.staff import otp


class StaffLoginForm(UnfoldAuthenticationForm):  # type: ignore[misc]
    """Password and a one-time code (authenticator app or backup code).

    A staff member who has never enrolled a device may sign in with the password alone; the enrolment
    middleware then confines the session to the enrolment page until a device is confirmed, and the admin
    site refuses every page to a session that is not OTP-verified.

    A wrong code counts as a failed login for the lockout (django-axes listens to ``user_login_failed``).
    """

    otp_token = forms.CharField(
        label="One-time code",
        required=False,
        max_length=16,
        # unfold styles its own fields only: without its classes this input had no border (invisible)
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": " ".join(BASE_INPUT_CLASSES)}
        ),
        help_text="From your authenticator app, or one of your backup codes.",
    )

    error_messages = {
        **UnfoldAuthenticationForm.error_messages,
        "token_required": "Enter the one-time code from your authenticator app.",
        "invalid_token": "Invalid one-time code. Check your device's clock and try again.",
        "throttled": "Too many wrong codes. Wait a moment before trying again.",
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # checks the password (django-axes counts failures) and is_staff
        user = self.get_user()
        if user is None or not otp.has_confirmed_device(user):
            return cleaned
        token = otp.normalise_token(cleaned.get("otp_token") or "")
        if not token:
            raise forms.ValidationError(self.error_messages["token_required"], code="token_required")
        device = otp.device_for_token(user, token)
        if device is None:
            self._fail(user)
        assert device is not None
        with transaction.atomic():
            allowed, _extra = device.verify_is_allowed()
            if not allowed:
                self._fail(user, "throttled")
            if not device.verify_token(token):
                self._fail(user)
        user.otp_device = device  # django-otp marks the session verified on login
        return cleaned

    def _fail(self, user: Any, code: str = "invalid_token") -> None:
        user_login_failed.send(
            sender=type(self),
            credentials={"username": user.get_username()},
            request=self.request,
        )
        raise forms.ValidationError(self.error_messages[code], code=code)


class EnrolmentForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=10,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "class": " ".join(BASE_INPUT_CLASSES),
            }
        ),
    )
