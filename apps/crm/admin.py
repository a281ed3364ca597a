"""Segments in the admin: the list, the segment page where a CRM Manager builds criteria with a form, sees the
preview (count, labelled exact or estimate, and a sample of 20), takes a snapshot, and downloads the marketing
export per channel. Thin: every write and the export are services (apps/crm/services.py), which check the
permission again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin

from apps.core.errors import ApplicationError
from apps.crm import services
from apps.crm.choices import Channel
from apps.crm.forms import SegmentForm
from apps.crm.models import Segment
from apps.staff.models import staff_of


@admin.register(Segment)
class SegmentAdmin(ModelAdmin):  # type: ignore[misc]
    form = SegmentForm
    change_form_template = "admin/crm/segment/change_form.html"
    list_display = ("name", "kind", "currency", "members", "last_refreshed_at", "created_by")
    list_select_related = ("created_by",)
    search_fields = ("name",)
    ordering = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "description", "kind", "currency")}),
        ("Who they are", {"fields": ("country", "jurisdiction", "vip_tier", "currencies", "tags_mode", "tags")}),
        ("Activity", {"fields": ("registered_from", "registered_to", "last_login_mode", "last_login_days")}),
        (
            "Money (from the day rollups, in the segment's currency)",
            {"fields": ("deposits_min", "deposits_max", "deposits_days", "ggr_min", "ggr_max", "ggr_days")},
        ),
        (
            "Verification and consent",
            {"fields": ("kyc_min", "kyc_max", "consent_email", "consent_sms", "consent_phone", "consent_post")},
        ),
    )

    @admin.display(description="members", ordering="member_count")
    def members(self, segment: Segment) -> str:
        return "—" if segment.member_count is None else f"{segment.member_count:,}"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # segments are kept: campaigns and exports name them in the trail

    def save_model(self, request: HttpRequest, obj: Segment, form: Any, change: bool) -> None:
        data = form.cleaned_data
        fields = {k: data.get(k, "") for k in ("name", "description", "kind", "currency")}
        actor = staff_of(request)
        if change:
            saved = services.segment_update(actor=actor, segment=obj, criteria=form.criteria(), **fields)
        else:
            saved = services.segment_create(actor=actor, criteria=form.criteria(), **fields)
        obj.pk, obj.criteria = saved.pk, saved.criteria

    def response_add(self, request: HttpRequest, obj: Segment, post_url_continue: str | None = None) -> HttpResponse:
        # straight to the segment's page: the preview is there
        super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(reverse("admin:crm_segment_change", args=[obj.pk]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        segment = self.get_object(request, object_id)
        context: dict[str, Any] = dict(extra_context or {})
        if segment is not None and request.method == "GET":
            try:
                context["preview"] = services.segment_preview(
                    actor=staff_of(request), criteria=segment.criteria, currency=segment.currency
                )
            except ApplicationError as exc:
                context["preview_error"] = exc.message
            context["can_snapshot"] = self.has_change_permission(request, segment)
            context["channels"] = (
                list(Channel.choices) if request.user.has_perm(services.EXPORT) else []  # type: ignore[union-attr]
            )
            context["segment"] = segment
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/snapshot/", wrap(self.snapshot_view), name="crm_segment_snapshot"),
            path("<int:pk>/export/<str:channel>/", wrap(self.export_view), name="crm_segment_export"),
            *super().get_urls(),
        ]

    def _segment(self, request: HttpRequest, pk: int) -> Segment:
        if not self.has_view_permission(request):
            raise PermissionDenied
        segment = Segment.objects.filter(pk=pk).first()
        if segment is None:
            raise Http404("No such segment.")
        return segment

    def snapshot_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return require_POST(self._snapshot)(request, pk)

    def _snapshot(self, request: HttpRequest, pk: int) -> HttpResponse:
        segment = self._segment(request, pk)
        if not self.has_change_permission(request, segment):
            raise PermissionDenied
        try:
            done = services.segment_snapshot(actor=staff_of(request), segment=segment)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                format_html(
                    "Snapshot taken: {} members ({} added, {} removed).",
                    f"{done.members:,}",
                    f"{done.added:,}",
                    f"{done.removed:,}",
                ),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:crm_segment_change", args=[segment.pk]))

    def export_view(self, request: HttpRequest, pk: int, channel: str) -> HttpResponse | StreamingHttpResponse:
        segment = self._segment(request, pk)
        if not request.user.has_perm(services.EXPORT):  # type: ignore[union-attr]
            raise PermissionDenied
        try:
            lines = services.marketing_export(actor=staff_of(request), segment=segment, channel=channel)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:crm_segment_change", args=[segment.pk]))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{services.export_filename(segment, channel)}"'
        response["Cache-Control"] = "no-store"
        return response


from apps.crm import campaign_admin  # noqa: E402,F401  (registers the campaign admin)
