"""The screening hits (AML Analysts, the MLRO): the list of hits, open first, and the hit page with the player beside
the listed entry, the evidence in words and the two decisions, each a POST through apps.screening.wiring
(``hit_confirm`` opens the sanctions case, restricts the account and requires level 3; ``hit_false_positive``
remembers the pair). A refusal is one message and the page again, never a 500. Who does not hold
``screening.view_screeninghit`` gets 403 on the list and 404 on a hit (the tipping-off wall)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin

from apps.core.admin_tools import BigTableAdminMixin, DefaultChoiceFilter, ReadOnlyAdminMixin
from apps.core.errors import ApplicationError
from apps.screening import wiring
from apps.screening.admin.display import evidence_words, player_link, state_badge
from apps.screening.models import HitState, ScreeningHit, WatchList
from apps.staff.models import staff_of

VIEW = "screening.view_screeninghit"
REVIEW = "screening.review_screeninghit"
FIELD_CLASS = "border border-base-200 rounded-default px-3 py-2 w-full"
DECISIONS = {"confirm": wiring.hit_confirm, "false_positive": wiring.hit_false_positive}


def sees_hits(user: Any) -> bool:
    return bool(user.is_active and user.has_perm(VIEW))


class StateFilter(DefaultChoiceFilter):
    title, parameter_name, default = "state", "state", HitState.OPEN

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*HitState.choices, ("all", "All")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ScreeningHit]) -> QuerySet[ScreeningHit]:
        value = self.value()
        if value == "all":
            return queryset
        return queryset.filter(state=value) if value in HitState.values else queryset.none()


class ListFilter(admin.SimpleListFilter):
    """Choices from the (small) watchlists table."""

    title, parameter_name = "list", "list"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in WatchList.objects.order_by("code").values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ScreeningHit]) -> QuerySet[ScreeningHit]:
        value = self.value()
        return queryset.filter(watchlist_id=int(value)) if value and value.isdigit() else queryset


class ReviewForm(forms.Form):
    note = forms.CharField(
        max_length=2000,
        label="Note (why)",
        widget=forms.Textarea(attrs={"rows": 3, "class": FIELD_CLASS}),
        error_messages={"required": "Write a note saying why: the decision is audited with it."},
    )

    def clean_note(self) -> str:
        note = (self.cleaned_data.get("note") or "").strip()
        if not note:
            raise forms.ValidationError("Write a note saying why: the decision is audited with it.")
        return note


def hit_or_404(request: HttpRequest, object_id: Any) -> ScreeningHit:
    """The hit for a member who may see hits; the same 404 as for a hit that does not exist otherwise."""
    if not sees_hits(request.user) or not str(object_id).isdigit() or len(str(object_id)) > 18:
        raise Http404("No such hit.")
    hit = (
        ScreeningHit.objects.select_related("player", "watchlist", "matched_entry__snapshot", "reviewed_by")
        .filter(pk=int(object_id))
        .first()
    )
    if hit is None:
        raise Http404("No such hit.")
    return hit


def _case_of(hit: ScreeningHit) -> Any:
    """The sanctions case a confirmed hit opened (or attached to), for its link."""
    if hit.state != HitState.CONFIRMED:
        return None
    from apps.compliance.choices import CaseType
    from apps.compliance.models import Case

    return Case.objects.filter(player_id=hit.player_id, type=CaseType.SANCTIONS).order_by("-id").first()


def render_hit(
    model_admin: Any, request: HttpRequest, hit: ScreeningHit, bound: dict[str, ReviewForm] | None = None
) -> HttpResponse:
    bound = bound or {}
    may_review = hit.state == HitState.OPEN and bool(request.user.has_perm(REVIEW))
    entry = hit.matched_entry
    case = _case_of(hit)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": ScreeningHit._meta,
        "title": f"Screening hit #{hit.pk}: {hit.player.first_name} {hit.player.last_name} ~ {hit.matched_name}",
        "hit": hit,
        "player": hit.player,
        "entry": entry,
        "snapshot": entry.snapshot,
        "state_badge": state_badge(hit.state),
        "evidence": evidence_words(hit.evidence),
        "may_review": may_review,
        "forms": {name: bound.get(name) or ReviewForm(prefix=name) for name in DECISIONS} if may_review else {},
        "case": case,
        "case_url": reverse("admin:compliance_case_change", args=[case.pk])
        if case is not None and request.user.has_perm("compliance.view_case")
        else "",
        "hits_url": reverse("admin:screening_screeninghit_changelist"),
    }
    return TemplateResponse(request, "admin/screening/hit_change.html", context)


def review(model_admin: Any, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    hit = hit_or_404(request, pk)
    back = HttpResponseRedirect(reverse("admin:screening_screeninghit_change", args=[hit.pk]))
    decide = DECISIONS.get(decision)
    if decide is None:
        raise Http404("No such decision.")
    if request.method != "POST":
        return back
    if not request.user.has_perm(REVIEW):
        raise PermissionDenied
    form = ReviewForm(request.POST, prefix=decision)
    if not form.is_valid():
        errors = form.errors.get("note") or form.non_field_errors() or ["The form is not valid."]
        messages.error(request, f"Nothing was decided. {errors[0]}")
        return render_hit(model_admin, request, hit, {decision: form})
    try:
        decided = decide(actor=staff_of(request), hit=hit, note=form.cleaned_data["note"])
    except ApplicationError as exc:
        messages.error(request, f"Nothing was decided: {exc.message}")
        return render_hit(model_admin, request, hit_or_404(request, hit.pk), {decision: form})
    if decided.state == HitState.CONFIRMED:
        case = _case_of(decided)
        messages.success(
            request,
            f"Hit confirmed: sanctions case #{case.pk if case else '?'} is open, the account is suspended and "
            "enhanced due diligence (KYC level 3) is required.",
        )
    else:
        messages.success(request, "Marked a false positive: the pair is not raised again while neither side changes.")
    return back


@admin.register(ScreeningHit)
class ScreeningHitAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("number", "player_col", "matched_name", "list_col", "entry_id", "score", "state_col", "created")
    list_display_links = None
    list_filter = (StateFilter, ListFilter)
    list_select_related = ("player", "watchlist")
    ordering = ("-id",)
    sortable_by = ()
    actions = None
    search_fields = ()

    # --- permissions: the wall; nothing through ModelAdmin forms -----------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_hits(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_hits(request.user)

    # --- columns -----------------------------------------------------------------------------------------------
    @admin.display(description="#")
    def number(self, obj: ScreeningHit) -> str:
        url = reverse("admin:screening_screeninghit_change", args=[obj.pk])
        return format_html('<a class="screening-hit-link underline font-medium" href="{}">#{}</a>', url, obj.pk)

    @admin.display(description="player")
    def player_col(self, obj: ScreeningHit) -> str:
        return player_link(obj.player)

    @admin.display(description="list")
    def list_col(self, obj: ScreeningHit) -> str:
        return obj.watchlist.name

    @admin.display(description="state")
    def state_col(self, obj: ScreeningHit) -> str:
        return state_badge(obj.state)

    @admin.display(description="created")
    def created(self, obj: ScreeningHit) -> str:
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

    # --- the hit page and its decisions ------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/review/<str:decision>/", view(self.review_view), name="screening_screeninghit_review"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        hit = hit_or_404(request, object_id)
        if request.method == "POST":  # each decision posts to its own view
            raise PermissionDenied
        return render_hit(self, request, hit)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        return self.change_view(request, object_id)

    def review_view(self, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
        return review(self, request, pk, decision)
