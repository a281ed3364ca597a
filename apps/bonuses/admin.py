"""The CRM Manager's bonus screens: templates written with a form (checked field by field and against the
jurisdictions' rules as it is saved: the errors on the fields), published or retired from the template's page
(a big budget waits for a second person in the Approvals inbox), the template's history and statistics; the
player bonuses list with wagering progress, and cancelling one with a reason. Every change goes through
apps.bonuses.templates and apps.bonuses.awards."""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminTextInputWidget,
)

from apps.bonuses import awards, stats, templates
from apps.bonuses.choices import Product, TemplateState
from apps.bonuses.models import BonusFlag, BonusTemplate, PlayerBonus, TemplateChange
from apps.core.admin_tools import ReadOnlyAdminMixin, ServiceRefusalAdminMixin
from apps.core.errors import ApplicationError
from apps.geo import config as geo_config
from apps.geo.choices import GameCategory
from apps.staff.models import staff_of


def _jurisdictions() -> list[tuple[str, str]]:
    snap = geo_config.snapshot()
    return [(code, f"{code} {snap.names.get(code, '')}".strip()) for code in sorted(snap.packs)]


def _contribution_field(category: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=f"{category.label} counts (%)",
        min_value=0,
        max_value=100,
        decimal_places=2,
        required=False,
        widget=UnfoldAdminDecimalFieldWidget,
    )


class TemplateForm(forms.ModelForm):
    """The template's terms as form fields (lists as checkboxes or comma-separated text, the contributions one
    field per game category). ``clean`` asks the service: its field errors and the rule violated land here."""

    products = forms.MultipleChoiceField(
        choices=Product.choices, widget=UnfoldAdminCheckboxSelectMultipleWidget, label="Products"
    )
    jurisdictions = forms.MultipleChoiceField(
        choices=(), widget=UnfoldAdminCheckboxSelectMultipleWidget, label="Jurisdictions (their bonus rules apply)"
    )
    games = forms.CharField(
        required=False, widget=UnfoldAdminTextInputWidget, label="Free spins: games (ids, separated by commas)"
    )
    excluded_games = forms.CharField(
        required=False, widget=UnfoldAdminTextInputWidget, label="Excluded games (count nothing; ids, commas)"
    )
    contribution_slots = _contribution_field(GameCategory.SLOTS)
    contribution_table = _contribution_field(GameCategory.TABLE)
    contribution_live = _contribution_field(GameCategory.LIVE)
    contribution_sports = _contribution_field(GameCategory.SPORTS)
    contribution_poker = _contribution_field(GameCategory.POKER)

    class Meta:
        model = BonusTemplate
        fields = ("code", "name", "description", *templates.TERMS, "priority")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["jurisdictions"].choices = _jurisdictions()  # type: ignore[attr-defined]
        if "trigger" in self.fields:
            self.fields["trigger"].required = False  # none chosen: manual (claim, code, campaign, staff)
        instance = self.instance
        contributions = (
            instance.contributions if instance.pk else BonusTemplate._meta.get_field("contributions").default()
        )
        for category in GameCategory:
            self.initial.setdefault(f"contribution_{category.value}", contributions.get(category.value, "0"))
        for name in ("games", "excluded_games"):
            if instance.pk and name in self.fields:
                self.initial[name] = ", ".join(getattr(instance, name))
        if instance.pk and "code" in self.fields:
            self.fields["code"].disabled = True

    def payload(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in templates.FIELDS if name in self.cleaned_data}
        data["contributions"] = {
            category.value: str(self.cleaned_data.get(f"contribution_{category.value}") or 0)
            for category in GameCategory
        }
        for name in ("games", "excluded_games"):
            data[name] = [g.strip() for g in (self.cleaned_data.get(name) or "").split(",") if g.strip()]
        for name, value in list(data.items()):
            if isinstance(value, Decimal):
                data[name] = str(value)
        if self.instance.pk:
            data["code"] = self.instance.code
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            terms = templates.clean_terms(self.payload())
            templates.check_rules(terms)
        except ApplicationError as exc:
            self._service_errors(exc)
        return cleaned

    def _service_errors(self, exc: ApplicationError) -> None:
        placed = False
        for name, problems in exc.fields.items():
            if name == "contributions":
                self.add_error(None, "Contributions: " + "; ".join(map(str, problems)))
                placed = True
            elif name in self.fields and isinstance(problems, list):
                for problem in problems:
                    self.add_error(name, str(problem))
                placed = True
        if not placed or exc.code == "bonus_rule_violation":
            self.add_error(None, exc.message)

    def _post_clean(self) -> None:  # the service writes the row; the ModelForm must not copy the lists onto it
        pass


@admin.register(BonusTemplate)
class BonusTemplateAdmin(ServiceRefusalAdminMixin, ModelAdmin):
    form = TemplateForm
    list_display = ("name", "code", "type_and_terms", "state_badge", "jurisdictions_text", "awarded", "valid_until")
    list_filter = ("state", "type", "currency")
    search_fields = ("code", "name", "bonus_code")
    ordering = ("-priority", "code")
    # publish and retire are forms of their own: inside the admin's form the browser dropped the first of them (its
    # Publish button submitted the change form), so they come after it
    change_form_outer_after_template = "admin/bonuses/template_after.html"
    change_form_outer_before_template = "admin/bonuses/template_before.html"
    fieldsets = (
        (
            None,
            {"fields": ("code", "name", "description", "type", "trigger", "products", "currency", "jurisdictions")},
        ),
        (
            "Amount",
            {
                "fields": (
                    "percent",
                    "amount",
                    "min_deposit",
                    "spins_count",
                    "spin_stake",
                    "games",
                    "cashback_days",
                )
            },
        ),
        (
            "Wagering",
            {
                "fields": (
                    "wagering_multiplier",
                    "wagering_base",
                    *(f"contribution_{c.value}" for c in GameCategory),
                    "excluded_games",
                    "max_bet",
                    "max_bet_policy",
                    "days_to_wager",
                    "max_conversion",
                    "withdrawal_policy",
                )
            },
        ),
        (
            "Who and how many",
            {
                "fields": (
                    "bonus_code",
                    "days_to_claim",
                    "per_player_limit",
                    "budget",
                    "max_recipients",
                    "valid_from",
                    "valid_until",
                    "priority",
                )
            },
        ),
    )

    @admin.display(description="Type and terms")
    def type_and_terms(self, obj: BonusTemplate) -> str:
        parts = [obj.get_type_display()]
        if obj.percent:
            parts.append(f"{obj.percent.normalize()}%")
        if obj.amount:
            parts.append(f"up to {obj.amount} {obj.currency}" if obj.percent else f"{obj.amount} {obj.currency}")
        parts.append(f"{obj.wagering_multiplier.normalize()}x")
        return " · ".join(parts)

    @admin.display(description="State")
    def state_badge(self, obj: BonusTemplate) -> str:
        return format_html('<span class="font-semibold" data-state="{}">{}</span>', obj.state, obj.get_state_display())

    @admin.display(description="Jurisdictions")
    def jurisdictions_text(self, obj: BonusTemplate) -> str:
        return ", ".join(obj.jurisdictions)

    @admin.display(description="Awarded")
    def awarded(self, obj: BonusTemplate) -> str:
        budget = f" of {obj.budget}" if obj.budget else ""
        return f"{obj.awarded_count} · {obj.awarded_amount}{budget} {obj.currency}"

    def get_readonly_fields(self, request: HttpRequest, obj: BonusTemplate | None = None) -> Any:
        if obj is not None and obj.state != TemplateState.DRAFT:
            open_fields = set(templates.AFTER_PUBLISHING) if obj.state == TemplateState.PUBLISHED else set()
            every = [f for _title, spec in self.fieldsets for f in spec["fields"]]  # type: ignore[index]
            return [f for f in every if f not in open_fields and not f.startswith("contribution_")]
        return ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None and obj.state != TemplateState.DRAFT:
            kwargs["fields"] = [f for f in templates.AFTER_PUBLISHING if obj.state == TemplateState.PUBLISHED]
            # the admin's own field callback: unfold's widgets (a bordered input), as on every other form
            return forms.modelform_factory(
                BonusTemplate,
                fields=kwargs["fields"],
                formfield_callback=partial(self.formfield_for_dbfield, request=request),
            )
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.state != TemplateState.DRAFT:
            shown = [f for _title, spec in self.fieldsets for f in spec["fields"] if not f.startswith("contribution_")]  # type: ignore[index]
            return ((None, {"fields": shown}),)
        return self.fieldsets

    def save_model(self, request: HttpRequest, obj: BonusTemplate, form: Any, change: bool) -> None:
        actor = staff_of(request)
        if isinstance(form, TemplateForm):
            data = form.payload()
        else:
            data = {name: form.cleaned_data.get(name) for name in templates.AFTER_PUBLISHING}
        try:
            if change:
                saved = templates.template_update(actor=actor, template=obj, data=data)
            else:
                saved = templates.template_create(actor=actor, data=data)
        except ApplicationError as exc:
            if exc.code == "bonus_not_permitted":
                raise PermissionDenied(exc.message) from exc
            raise  # a refusal the form could not foresee (a race): a message on the page (ServiceRefusalAdminMixin)
        obj.pk, obj._state.adding = saved.pk, False
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/publish/", view(self.publish_view), name="bonuses_bonustemplate_publish"),
            path("<int:pk>/retire/", view(self.retire_view), name="bonuses_bonustemplate_retire"),
            *super().get_urls(),
        ]

    def _template(self, request: HttpRequest, pk: int) -> BonusTemplate:
        if request.method != "POST":
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        template = BonusTemplate.objects.filter(pk=pk).first()
        if template is None:
            raise Http404
        return template

    def _decide(self, request: HttpRequest, pk: int, call: Any, done: str) -> HttpResponse:
        template = self._template(request, pk)
        reason = (request.POST.get("reason") or "").strip()
        try:
            saved = call(actor=staff_of(request), template=template, reason=reason)
        except ApplicationError as exc:
            if exc.code == "bonus_not_permitted":
                raise PermissionDenied(exc.message) from exc
            messages.error(request, f"Nothing changed: {exc.message}")
        else:
            messages.success(request, done.format(state=saved.get_state_display().lower()))
        return HttpResponseRedirect(reverse("admin:bonuses_bonustemplate_change", args=[pk]))

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        # "published", or "waiting for a second person" (a budget from the threshold)
        return self._decide(request, pk, templates.template_publish, "The template is {state}.")

    def retire_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decide(request, pk, templates.template_retire, "The template is {state}.")

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        template = BonusTemplate.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        extra = dict(extra_context or {})
        if template is not None:
            user = request.user
            extra["history"] = TemplateChange.objects.filter(template=template).select_related("actor")[:50]
            extra["may_publish"] = user.has_perm(templates.PUBLISH)
            extra["template_obj"] = template
            if template.state != TemplateState.DRAFT:  # a draft has no bonus
                # the statistics panel and its chart (apps/bonuses/stats.py): whoever may see the template sees them
                extra["bonus_stats"] = stats.panel(template_id=template.pk, days=request.GET.get("stats_days"))
        return super().change_view(request, object_id, form_url, extra)


@admin.register(PlayerBonus)
class PlayerBonusAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("player_link", "template", "state", "amount_text", "progress", "activated_at", "wager_by")
    list_filter = ("state", "template", "source")
    search_fields = ("player__external_id", "player__email", "template__code")
    list_select_related = ("player", "template")
    raw_id_fields = ("player",)
    change_form_outer_after_template = "admin/bonuses/bonus_after.html"  # its cancel form: after the admin's form

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in PlayerBonus._meta.fields]

    @admin.display(description="Player")
    def player_link(self, obj: PlayerBonus) -> str:
        url = reverse("admin:players_player_change", args=[obj.player_id])
        return format_html('<a class="underline" href="{}">{}</a>', url, obj.player.external_id)

    @admin.display(description="Bonus")
    def amount_text(self, obj: PlayerBonus) -> str:
        return f"{obj.amount} {obj.currency}"

    @admin.display(description="Wagering")
    def progress(self, obj: PlayerBonus) -> str:
        return format_html(
            '<span data-percent="{}">{} of {} ({}%)</span>',
            obj.percent,
            obj.wagered.quantize(Decimal("0.01")),
            obj.wagering_required.quantize(Decimal("0.01")),
            obj.percent,
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/cancel/", view(self.cancel_view), name="bonuses_playerbonus_cancel"),
            *super().get_urls(),
        ]

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            raise Http404
        if not self.has_view_permission(request):
            raise PermissionDenied
        bonus = PlayerBonus.objects.filter(pk=pk).first()
        if bonus is None:
            raise Http404
        try:
            awards.bonus_cancel(actor=staff_of(request), bonus=bonus, reason=request.POST.get("reason") or "")
        except ApplicationError as exc:
            if exc.code == "bonus_not_permitted":
                raise PermissionDenied(exc.message) from exc
            messages.error(request, f"Nothing changed: {exc.message}")
        else:
            messages.success(request, "The bonus is cancelled; its balance is forfeited.")
        return HttpResponseRedirect(reverse("admin:bonuses_playerbonus_change", args=[pk]))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        extra = dict(extra_context or {})
        extra["may_cancel"] = request.user.has_perm(awards.CANCEL)
        return super().change_view(request, object_id, form_url, extra)


@admin.register(TemplateChange)
class TemplateChangeAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("template", "action", "actor", "at", "note")
    list_filter = ("action",)
    list_select_related = ("template", "actor")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in TemplateChange._meta.fields]


@admin.register(BonusFlag)
class BonusFlagAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """The review list of bonus-abuse flags (each also opened or joined the player's fraud case)."""

    list_display = ("created_at", "player_link", "kind", "bonus", "others_text", "evidence")
    list_filter = ("kind",)
    search_fields = ("player__external_id",)
    list_select_related = ("player", "bonus__template")

    @admin.display(description="Player")
    def player_link(self, obj: BonusFlag) -> str:
        url = reverse("admin:players_player_change", args=[obj.player_id])
        return format_html('<a class="underline" href="{}">{}</a>', url, obj.player.external_id)

    @admin.display(description="With players")
    def others_text(self, obj: BonusFlag) -> str:
        return ", ".join(map(str, obj.others[:10]))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [f.name for f in BonusFlag._meta.fields]
