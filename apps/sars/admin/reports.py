"""The SAR list, the draft page (from a case) and the report's page with its forms and the download. See the
package's docstring for the wall. The list is small (reports are few: no estimate needed) and ordered newest
first on sars_state_idx; a report's page reads its case, player and exports in a handful of queries."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin

from apps.compliance.models import Case
from apps.core.errors import ApplicationError
from apps.sars import goaml, services
from apps.sars.admin import forms
from apps.sars.choices import EDITABLE, ReportCode, SarState
from apps.sars.errors import SarCaseNotFound, SarNotFound
from apps.sars.models import Sar, SarExport
from apps.staff.models import staff_of


def _clean(value: Any) -> str:
    return value if isinstance(value, str) and value.isprintable() else ""


class StateFilter(admin.SimpleListFilter):
    title, parameter_name = "state", "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(SarState.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Sar]) -> QuerySet[Sar]:
        value = _clean(self.value())
        return queryset.filter(state=value) if value in SarState.values else queryset


class CodeFilter(admin.SimpleListFilter):
    title, parameter_name = "report", "code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(ReportCode.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Sar]) -> QuerySet[Sar]:
        value = _clean(self.value())
        return queryset.filter(report_code=value) if value in ReportCode.values else queryset


def sar_or_404(request: HttpRequest, pk: Any) -> Sar:
    try:
        return services.sar_get(request.user, pk)
    except SarNotFound as exc:
        raise Http404("Not found.") from exc


def _first_error(form: Any) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "The form is not valid."


def _transactions(sar_or_case: Any) -> list[Any]:
    from apps.wallet.models import LedgerTransaction

    case = sar_or_case.case if isinstance(sar_or_case, Sar) else sar_or_case
    ids = services.linked_reportable(case)
    return list(LedgerTransaction.objects.filter(pk__in=ids).order_by("created_at", "id"))


@admin.register(Sar)
class SarAdmin(ModelAdmin):  # type: ignore[misc]
    list_display = ("number", "code", "player_link", "case_number", "state_label", "created_at", "filing")
    list_display_links = None
    list_filter = (StateFilter, CodeFilter)
    list_select_related = ("player", "case")
    ordering = ("-id",)
    sortable_by = ()
    search_fields = ("fiu_reference",)
    search_help_text = "Report number, case number, the FIU's reference or a player's external id"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sar]:
        return services.sars_visible_to(request.user, super().get_queryset(request))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Sar], search_term: str
    ) -> tuple[QuerySet[Sar], bool]:
        from django.db.models import Q

        term = (search_term or "").strip().lstrip("#")
        if not term:
            return queryset, False
        if not term.isprintable() or len(term) > 255:
            return queryset.none(), False
        found = Q(fiu_reference=term) | Q(player__external_id=term)
        if term.isdigit() and len(term) < 19:
            found |= Q(pk=int(term)) | Q(case_id=int(term))
        return queryset.filter(found), False

    # --- the wall: nothing of this answers anyone without sars.view_sar -----------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return services.sees_sars(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return services.sees_sars(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return services.sees_sars(request.user) and bool(request.user.has_perm(services.DRAFT))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- columns -------------------------------------------------------------------------------------------------
    @admin.display(description="#")
    def number(self, obj: Sar) -> str:
        url = reverse("admin:sars_sar_change", args=[obj.pk])
        return format_html('<a class="underline font-medium sar-link" href="{}">#{}</a>', url, obj.pk)

    @admin.display(description="report")
    def code(self, obj: Sar) -> str:
        return f"{obj.report_code}{' (correction)' if obj.corrects_id else ''}"

    @admin.display(description="player")
    def player_link(self, obj: Sar) -> str:
        url = reverse("admin:players_player_change", args=[obj.player_id])
        return format_html('<a class="underline" href="{}">{} {}</a>', url, obj.player.first_name, obj.player.last_name)

    @admin.display(description="case")
    def case_number(self, obj: Sar) -> str:
        url = reverse("admin:compliance_case_change", args=[obj.case_id])
        return format_html('<a class="underline" href="{}">#{}</a>', url, obj.case_id)

    @admin.display(description="state")
    def state_label(self, obj: Sar) -> str:
        return format_html('<span class="sar-state sar-state-{}">{}</span>', obj.state, obj.get_state_display())

    @admin.display(description="filed")
    def filing(self, obj: Sar) -> str:
        return f"{obj.fiu_reference} on {obj.filed_on:%Y-%m-%d}" if obj.filed_on else ""

    # --- pages ---------------------------------------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<str:what>/", view(self.do_view), name="sars_sar_do"),
            path("<int:pk>/download/", view(self.download_view), name="sars_sar_download"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        services.sar_list_viewed(actor=staff_of(request))  # type: ignore[arg-type]
        return super().changelist_view(request, extra_context)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        if not self.has_add_permission(request):
            raise PermissionDenied
        case_pk = _clean(request.POST.get("case") or request.GET.get("case") or "")
        case = Case.objects.filter(pk=int(case_pk)).first() if case_pk.isdigit() and len(case_pk) < 19 else None
        from apps.compliance.cases import case_visible

        if case is not None and not case_visible(request.user, case):
            case = None  # the same page as for a case that does not exist
        transactions = _transactions(case) if case is not None else []
        initial: dict[str, Any] = {"case": case.pk if case else None, "report_code": ReportCode.SAR}
        form = forms.DraftForm(request.POST or None, initial=initial, transactions=transactions)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if case is None:
                    raise SarCaseNotFound("No such case.")
                sar = services.sar_draft(
                    actor=staff_of(request),  # type: ignore[arg-type]
                    case=case,
                    report_code=data["report_code"],
                    reason=data["reason"],
                    action=data.get("action") or "",
                    indicators=data["indicators"],
                    occupation=data.get("occupation") or "",
                    transaction_ids=data.get("transaction_ids") or None,
                )
            except ApplicationError as exc:
                messages.error(request, f"Nothing was drafted: {exc.message}")
            else:
                messages.success(request, f"{sar.report_code} #{sar.pk} drafted on case #{case.pk}.")  # type: ignore[union-attr]
                return HttpResponseRedirect(reverse("admin:sars_sar_change", args=[sar.pk]))
        elif request.method == "POST":
            messages.error(request, f"Nothing was drafted. {_first_error(form)}")
        context = {
            **self.admin_site.each_context(request),
            "opts": Sar._meta,
            "title": "Draft a report to the FIU",
            "form": form,
            "case": case,
            "list_url": reverse("admin:sars_sar_changelist"),
        }
        return TemplateResponse(request, "admin/sars/sar_add.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        sar = sar_or_404(request, object_id)
        if request.method == "POST":  # nothing is edited here: each form posts to its own view
            raise PermissionDenied
        return self._page(request, sar, {})

    def _page(self, request: HttpRequest, sar: Sar, bound: dict[str, Any]) -> HttpResponse:
        """The report's page; each rendering shows its content, so each is an audit event (sars.viewed)."""
        services.sar_viewed(actor=staff_of(request), sar=sar)  # type: ignore[arg-type]
        user = request.user
        drafter = bool(user.has_perm(services.DRAFT))
        state = sar.state
        shown: dict[str, Any] = {}

        def offer(name: str, when: bool, **kwargs: Any) -> None:
            if when:
                shown[name] = bound.get(name) or forms.FORMS[name](**kwargs)

        transactions = _transactions(sar)
        offer(
            "update",
            drafter and state in EDITABLE,
            transactions=transactions,
            initial={
                "report_code": sar.report_code,
                "reason": sar.reason,
                "action": sar.action,
                "indicators": " ".join(sar.indicators),
                "occupation": sar.occupation,
                "transaction_ids": sar.transaction_ids,
            },
        )
        offer("submit", drafter and state in EDITABLE)
        offer("reopen", drafter and state == SarState.EXPORT_FAILED)
        offer("retry", drafter and state == SarState.EXPORT_FAILED)
        offer("file", drafter and state == SarState.READY)
        offer("correct", drafter and state == SarState.FILED)
        from apps.approvals.selectors import for_target

        context = {
            **self.admin_site.each_context(request),
            "opts": Sar._meta,
            "title": f"{sar.report_code} #{sar.pk}",
            "sar": sar,
            "player": sar.player,
            "reported": goaml.transactions_of(sar),
            "exports": list(SarExport.objects.filter(sar=sar).order_by("-id")[:20]),
            "approvals": list(for_target(sar, kind=services.APPROVE_KIND).select_related("maker", "checker")[:10]),
            "corrections": list(Sar.objects.filter(corrects=sar).order_by("id")),
            "forms": shown,
            "list_url": reverse("admin:sars_sar_changelist"),
        }
        return TemplateResponse(request, "admin/sars/sar_change.html", context)

    def _call(self, what: str, request: HttpRequest, sar: Sar, data: dict[str, Any]) -> tuple[str, Sar]:
        actor = staff_of(request)
        if what == "update":
            data = {**data, "transaction_ids": data.get("transaction_ids") or None}
            return "Draft saved.", services.sar_update(actor=actor, sar=sar, **data)  # type: ignore[arg-type]
        if what == "submit":
            done = services.sar_submit(actor=actor, sar=sar, note=data.get("note") or "")  # type: ignore[arg-type]
            return "Submitted: a second person approves it in the Approvals inbox.", done
        if what == "reopen":
            return "Back to a draft.", services.sar_reopen(actor=actor, sar=sar, reason=data["reason"])  # type: ignore[arg-type]
        if what == "retry":
            done = services.sar_export_retry(actor=actor, sar=sar)  # type: ignore[arg-type]
            return (
                "Exported: the file is ready." if done.state == SarState.READY else "The export failed again."
            ), done
        if what == "file":
            done = services.sar_file(
                actor=actor, sar=sar, fiu_reference=data["fiu_reference"], filed_on=data["filed_on"]
            )  # type: ignore[arg-type]
            return f"Filed: {done.fiu_reference}.", done
        if what == "correct":
            done = services.sar_correct(actor=actor, sar=sar, reason=data["reason"])  # type: ignore[arg-type]
            return f"Correction #{done.pk} drafted: edit it and submit it.", done
        raise Http404("Not found.")

    def do_view(self, request: HttpRequest, pk: int, what: str) -> HttpResponse:
        sar = sar_or_404(request, pk)
        form_class = forms.FORMS.get(what)
        if form_class is None:
            raise Http404("Not found.")
        back = HttpResponseRedirect(reverse("admin:sars_sar_change", args=[sar.pk]))
        if request.method != "POST":
            return back
        kwargs: dict[str, Any] = {"transactions": _transactions(sar)} if what == "update" else {}
        form = form_class(request.POST, **kwargs)
        if not form.is_valid():
            messages.error(request, f"Nothing was done. {_first_error(form)}")
            return self._page(request, sar, {what: form})
        try:
            done, result = self._call(what, request, sar, form.cleaned_data)
        except ApplicationError as exc:
            messages.error(request, f"Nothing was done: {exc.message}")
            return self._page(request, sar_or_404(request, sar.pk), {what: form})
        messages.success(request, done)
        return HttpResponseRedirect(reverse("admin:sars_sar_change", args=[result.pk]))

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        sar_or_404(request, object_id)  # Django's own answer would redirect with the model's name in a message
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        sar_or_404(request, object_id)
        raise PermissionDenied  # a report is never deleted (the database refuses it too)

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        sar = sar_or_404(request, pk)
        try:
            export = services.sar_download(actor=staff_of(request), sar=sar)  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:sars_sar_change", args=[sar.pk]))
        response = HttpResponse(export.xml.encode("utf-8"), content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
        response["X-Content-SHA256"] = export.sha256
        response["Cache-Control"] = "no-store"
        return response
