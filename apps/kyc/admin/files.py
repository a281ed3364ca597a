"""The only way staff get a document's bytes, and the officer's upload for a player.

``document_file_view`` answers a preview (PNG: the image scaled, a PDF's first page rendered) or the original stored
file (as an attachment) to a member holding ``kyc.view_document`` who may see the document's review (a lead, or its
assignee or team); anyone else gets a 404. Each answer writes ``kyc.document_viewed``. The answer is never cached
and is sandboxed (a PDF's scripts cannot run in the admin's origin even if one slipped past intake).

``upload_view`` installs KycUploadHandler before anything parses the body: Django's documented pattern of a
``csrf_exempt`` view that runs ``csrf_protect`` itself once the handler is set (CsrfViewMiddleware would otherwise
read ``request.POST`` first, through the default handlers, spooling a large upload to a temporary file).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from apps.audit.services import audit_log
from apps.core.errors import ApplicationError
from apps.kyc import reviews
from apps.kyc.choices import DocumentType, Source
from apps.kyc.documents import document_upload
from apps.kyc.models import Document
from apps.kyc.preview import preview_png
from apps.kyc.storage import open_document
from apps.kyc.uploads import uploaded_file, use_kyc_upload_handler
from apps.players.models import Player
from apps.staff.models import staff_of

PREVIEW, ORIGINAL = "preview", "original"


def may_view_file(user: Any, document: Document) -> bool:
    if not user.has_perm("kyc.view_document"):
        return False
    if document.review is None:
        return reviews.is_lead(user)
    return reviews.review_visible(user, document.review)


def document_file_view(request: HttpRequest, document_pk: int) -> HttpResponse:
    document = get_object_or_404(Document.objects.select_related("review", "player"), pk=document_pk)
    if not may_view_file(request.user, document):
        raise Http404("No such document.")
    what = ORIGINAL if request.GET.get("as") == ORIGINAL else PREVIEW
    try:
        width = min(max(int(request.GET.get("width", "1200")), 100), 2400)
    except ValueError:
        width = 1200
    if what == PREVIEW:
        body, content_type = preview_png(document.file_name, document.file_kind, max_width=width), "image/png"
    else:
        body, content_type = open_document(document.file_name), document.content_type
    audit_log(
        actor=staff_of(request),
        action="kyc.document_viewed",
        target=document.player,
        data={"document": document.pk, "type": document.type, "as": what, "review": document.review_id},
    )
    response = HttpResponse(body, content_type=content_type)
    extension = {"jpeg": "jpg"}.get(document.file_kind, document.file_kind)
    name = f"{document.player.external_id}-{document.type}-{document.pk}"
    if what == ORIGINAL:
        response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    else:
        response["Content-Disposition"] = f'inline; filename="{name}-preview.png"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


class UploadForm(forms.Form):
    document_type = forms.ChoiceField(choices=DocumentType.choices, label="Document type")
    issuing_country = forms.CharField(required=False, max_length=2, label="Issuing country (ISO, 2 letters)")
    expires_on = forms.DateField(
        required=False, label="Expiry date", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    number = forms.CharField(required=False, max_length=64, label="Document number (identity documents)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "border border-base-200 rounded-default px-3 py-2 bg-white dark:bg-base-900"


@csrf_exempt
def upload_view(request: HttpRequest, player_pk: int) -> HttpResponse:
    """An officer uploads a document for a player (``document_upload``, source admin); back to the player page."""
    use_kyc_upload_handler(request)  # before anything reads the body (the CSRF check below included)
    return _upload(request, player_pk)


@csrf_protect
def _upload(request: HttpRequest, player_pk: int) -> HttpResponse:
    player = get_object_or_404(Player, pk=player_pk)
    page = HttpResponseRedirect(reverse("admin:players_player_change", args=[player.pk]) + "#kyc")
    if request.method != "POST":
        return page
    if not request.user.has_perm("kyc.add_document"):
        raise PermissionDenied
    name = f"{player.first_name} {player.last_name} ({player.external_id})"
    try:
        upload = uploaded_file(request, "file")
    except ApplicationError as exc:
        messages.error(request, f"{name}: nothing was uploaded. {exc.message}")
        return page
    form = UploadForm(request.POST)
    if upload is None or not form.is_valid():
        problems = [] if upload is not None else ["choose the file"]
        problems += [f"{field.replace('_', ' ')}: {' '.join(map(str, e))}" for field, e in form.errors.items()]
        messages.error(request, f"{name}: nothing was uploaded ({'; '.join(problems)}).")
        return page
    data = form.cleaned_data
    try:
        document = document_upload(
            actor=staff_of(request),
            player=player,
            document_type=data["document_type"],
            data=upload,
            source=Source.ADMIN,
            declared_name=upload.name,
            declared_type=upload.content_type,
            issuing_country=data.get("issuing_country") or "",
            expires_on=data.get("expires_on"),
            number=data.get("number") or "",
        )
    except ApplicationError as exc:
        fields = "; ".join(f"{k.replace('_', ' ')}: {' '.join(map(str, v))}" for k, v in (exc.fields or {}).items())
        messages.error(request, f"{name}: nothing was uploaded. {exc.message}{f' ({fields})' if fields else ''}")
        return page
    messages.success(
        request,
        f"{name}: {document.get_type_display()} uploaded and queued in KYC review #{document.review_id}"
        f" (due {document.review.due_at:%Y-%m-%d %H:%M}).",  # type: ignore[union-attr]
    )
    return page


__all__ = ["UploadForm", "document_file_view", "upload_view"]
