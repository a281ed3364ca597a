"""Second-factor enrolment: shown once, before any other admin page, to a staff member without a device."""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache

from apps.core.errors import ApplicationError
from apps.staff import otp, services
from apps.staff.forms import EnrolmentForm


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]  # drop the XML declaration to inline it


@never_cache
@login_required(login_url="admin:login")
def enrol(request: HttpRequest, site: Any) -> HttpResponse:
    user = request.user
    if otp.has_confirmed_device(user):  # type: ignore[arg-type]
        return HttpResponseRedirect(reverse("admin:index"))
    context = {**site.each_context(request), "title": "Set up two-factor authentication"}
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.staff_enrolment_confirm(request=request, user=user, token=form.cleaned_data["token"])  # type: ignore[arg-type]
        except ApplicationError as exc:
            form.add_error("token", exc.message)
        else:
            messages.success(request, "Two-factor authentication is set up.")
            return render(request, "staff/backup_codes.html", {**context, "codes": codes})
    # The same secret on every showing until a code confirms it (a reload keeps a code already scanned working);
    # once confirmed it is never shown again.
    device = services.staff_enrolment_start(user=user)  # type: ignore[arg-type]
    uri = otp.provisioning_uri(device)
    context.update(
        {
            "form": form,
            # SVG made by qrcode from our own otpauth URI (no user input in it)
            "qr_svg": mark_safe(_qr_svg(uri)),  # noqa: S308
            "secret": otp.base32_secret(device),
            "otpauth_uri": uri,
        }
    )
    return render(request, "staff/enrol.html", context)
