"""Campaigns in the admin: the builder (segment, template, mode, window; the service's refusals on the fields),
the campaign page with the target count and cost forecast before the start, and while it runs a progress bar
(the page reloads itself every two seconds), the cost so far and the refusals by reason, and once it has run the
statistics of its bonuses with a daily chart (apps/bonuses/stats.py); start and cancel
buttons post to views that call the services, which check the permission again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin

from apps.bonuses import stats
from apps.core.errors import ApplicationError
from apps.crm import campaigns
from apps.crm.choices import CampaignMode, CampaignState
from apps.crm.models import Campaign
from apps.staff.models import staff_of


class CampaignForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Campaign
        fields = ("name", "segment", "template", "mode", "starts_at", "ends_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            campaigns.campaign_check(
                name=data.get("name"),
                segment=data.get("segment"),
                template=data.get("template"),
                mode=data.get("mode"),
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
            )
        except ApplicationError as exc:
            for field, problems in (exc.fields or {}).items():
                self.add_error(field if field in self.fields else None, problems)
        return data


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):  # type: ignore[misc]
    form = CampaignForm
    change_form_template = "admin/crm/campaign/change_form.html"
    list_display = ("name", "template", "segment", "mode", "state", "progress", "given", "cost_so_far", "ends_at")
    list_filter = ("state", "mode")
    list_select_related = ("template", "segment")
    search_fields = ("name",)
    readonly_fields = (
        "state",
        "target_count",
        "processed",
        "given",
        "refused",
        "refusals_by_reason",
        "cost",
        "started_at",
        "started_by",
        "finished_at",
        "created_by",
    )

    @admin.display(description="progress")
    def progress(self, campaign: Campaign) -> str:
        return f"{campaign.percent} %"

    @admin.display(description="given", ordering="awarded")
    def given(self, campaign: Campaign) -> str:
        """An offer campaign's count is of offers: its statistics count as awarded only the offers claimed."""
        kind = "offers" if campaign.mode == CampaignMode.OFFER else "awards"
        return f"{campaign.awarded:,} {kind}"

    @admin.display(description="refusals by reason")
    def refusals_by_reason(self, campaign: Campaign) -> str:
        return " · ".join(f"{reason}: {count:,}" for reason, count in sorted(campaign.refusals.items())) or "none"

    @admin.display(description="cost so far", ordering="cost")
    def cost_so_far(self, campaign: Campaign) -> str:
        return f"{campaign.cost:,.2f} {campaign.template.currency}"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        base = ["name", "segment", "template", "mode", "starts_at", "ends_at"]
        return base if obj is None else [*base, *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return ("name", "segment", "template", "mode", "starts_at", "ends_at", *self.readonly_fields)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_view_permission(request)  # a campaign is changed only by its buttons

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the awards name the campaign

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = campaigns.campaign_create(
            actor=staff_of(request),
            name=data["name"],
            segment=data["segment"],
            template=data["template"],
            mode=data["mode"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
        )
        obj.pk = saved.pk

    def response_add(self, request: HttpRequest, obj: Campaign, post_url_continue: str | None = None) -> HttpResponse:
        super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(reverse("admin:crm_campaign_change", args=[obj.pk]))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        campaign = self.get_object(request, object_id)
        context: dict[str, Any] = dict(extra_context or {})
        if campaign is not None:
            context["campaign"] = campaign
            context["running"] = campaign.state == CampaignState.RUNNING
            context["can_run"] = request.user.has_perm(campaigns.RUN)  # type: ignore[union-attr]
            context["can_start"] = campaign.state == CampaignState.DRAFT
            context["can_cancel"] = campaign.state in (CampaignState.DRAFT, CampaignState.RUNNING)
            if campaign.state != CampaignState.DRAFT:  # a draft has given nothing yet: its forecast says enough
                # what its bonuses became (apps/bonuses/stats.py): whoever may see the campaign sees them
                context["bonus_stats"] = stats.panel(
                    template_id=campaign.template_id,
                    campaign_id=campaign.pk,
                    days=request.GET.get("stats_days"),
                    ggr=campaign.state != CampaignState.RUNNING,  # the page reloads every 2 s: not the ledger join
                )
            if campaign.state == CampaignState.DRAFT:
                try:
                    context["forecast"] = campaigns.forecast(campaign)
                except ApplicationError as exc:
                    context["forecast_error"] = exc.message
        return super().change_view(request, object_id, form_url, context)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/start/", wrap(require_POST(self.start_view)), name="crm_campaign_start"),
            path("<int:pk>/cancel/", wrap(require_POST(self.cancel_view)), name="crm_campaign_cancel"),
            *super().get_urls(),
        ]

    def _campaign(self, request: HttpRequest, pk: int) -> Campaign:
        if not request.user.has_perm(campaigns.RUN):  # type: ignore[union-attr]
            raise PermissionDenied
        campaign = Campaign.objects.filter(pk=pk).first()
        if campaign is None:
            raise Http404("No such campaign.")
        return campaign

    def start_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        try:
            started = campaigns.campaign_start(actor=staff_of(request), campaign=campaign)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request, f"Campaign {started.name!r} started for {started.target_count:,} players.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:crm_campaign_change", args=[pk]))

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        try:
            done = campaigns.campaign_cancel(actor=staff_of(request), campaign=campaign)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request, f"Campaign {done.name!r} cancelled after {done.processed:,} players.", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:crm_campaign_change", args=[pk]))
