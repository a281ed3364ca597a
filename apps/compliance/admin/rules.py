"""The rules: the list with each rule's live, shadow and draft versions; a rule's page (its versions, drafting a
new one with its kind's typed parameters, snoozing it for a player, the snoozes in force); a version's page (its
parameters, how many hits and alerts it made, editing a draft, asking for publication (a second person decides in
the Approvals inbox), retiring); and read-only lists of hits, alerts (each linking to its case) and snoozes.
Every write is a call of apps/compliance/rulebook.py; its refusals are one message, never a 500."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin

from apps.compliance import cases, kinds, rulebook
from apps.compliance.admin.display import evidence_rows, window_words
from apps.compliance.choices import CaseState, CaseType, Outcome, Priority, RuleKind, VersionMode, VersionState
from apps.compliance.models import Alert, Case, Rule, RuleHit, RuleSnooze, RuleVersion
from apps.core.admin_tools import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.errors import ApplicationError
from apps.core.workqueues import count_rows
from apps.players.models import Player
from apps.staff.models import staff_of

FIELD = "border border-base-200 rounded-default px-3 py-2 w-full bg-white dark:bg-base-900"
VIEW_RULE, ADD_RULE, ADD_VERSION = "compliance.view_rule", "compliance.add_rule", "compliance.add_ruleversion"
PUBLISH, SNOOZE = "compliance.publish_rule", "compliance.snooze_rule"
_MONEY = re.compile(r"^\s*([A-Za-z]{3})?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Za-z]{3})?\s*$")


def _refusal(exc: ApplicationError) -> str:
    details = "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in (exc.fields or {}).items())
    return f"{exc.message} ({details})" if details else exc.message


# --- typed parameters as form fields -------------------------------------------------------------------------


def _param_initial(param: kinds.Param, value: Any) -> Any:
    if value is None:
        return None
    if param.type == "money" and isinstance(value, dict):
        return f"{value.get('amount', '')} {value.get('currency', '')}".strip()
    if param.type in ("countries", "identifiers", "strings") and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _param_value(param: kinds.Param, raw: Any) -> Any:
    """What the kind's validation reads (kinds.validate): money as {amount, currency}, lists from commas."""
    if param.type == "bool":
        return bool(raw)
    text = str(raw or "").strip()
    if not text:
        return None
    if param.type == "money":
        match = _MONEY.match(text)
        if not match or not (match.group(1) or match.group(3)):
            return {"amount": text, "currency": ""}  # the kind refuses it with its own words
        return {"amount": match.group(2).replace(",", ""), "currency": (match.group(1) or match.group(3)).upper()}
    if param.type in ("countries", "identifiers", "strings"):
        return [v.strip() for v in text.split(",") if v.strip()]
    return text


class VersionForm(forms.Form):
    """A version's settings and its kind's parameters, one field per parameter (``p_<name>``)."""

    score = forms.IntegerField(min_value=0, max_value=100, initial=50, widget=forms.NumberInput(attrs={"class": FIELD}))
    case_type = forms.ChoiceField(choices=CaseType.choices, widget=forms.Select(attrs={"class": FIELD}))
    priority = forms.ChoiceField(
        choices=Priority.choices, initial=Priority.MEDIUM, widget=forms.Select(attrs={"class": FIELD})
    )
    mode = forms.ChoiceField(choices=VersionMode.choices, widget=forms.Select(attrs={"class": FIELD}))
    note = forms.CharField(
        required=False, max_length=500, label="What changes and why", widget=forms.TextInput(attrs={"class": FIELD})
    )

    def __init__(self, *args: Any, kind: str, params: dict[str, Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "version-%s")
        super().__init__(*args, **kwargs)
        self.kind = kinds.kind_for(kind)
        for param in self.kind.params:
            label = f"{param.name.replace('_', ' ')}" + ("" if param.required else " (optional)")
            hint = {
                "money": "an amount and currency, e.g. 2000.00 EUR",
                "window": "e.g. 24h or 30d",
                "countries": "ISO codes, comma-separated",
                "identifiers": "device, ip, instrument",
                "strings": "comma-separated",
            }.get(param.type, "")
            help_text = "; ".join(x for x in (param.help, hint) if x)
            initial = _param_initial(param, (params or {}).get(param.name, param.default))
            if param.type == "bool":
                field: forms.Field = forms.BooleanField(
                    required=False, label=label, help_text=help_text, initial=initial
                )
            else:
                field = forms.CharField(
                    required=False,
                    max_length=2000,
                    label=label,
                    help_text=help_text,
                    initial=initial,
                    widget=forms.TextInput(attrs={"class": FIELD}),
                )
            self.fields[f"p_{param.name}"] = field

    def params(self) -> dict[str, Any]:
        values = {}
        for param in self.kind.params:
            value = _param_value(param, self.cleaned_data.get(f"p_{param.name}"))
            if value is not None:
                values[param.name] = value
        return values

    def param_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith("p_")]

    def setting_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if not name.startswith("p_")]


class RuleAddForm(forms.Form):
    code = forms.CharField(
        max_length=64,
        help_text="Stable, lower-case with hyphens: structuring-under-cdd",
        widget=forms.TextInput(attrs={"class": FIELD}),
    )
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"class": FIELD}))
    kind = forms.ChoiceField(choices=RuleKind.choices, widget=forms.Select(attrs={"class": FIELD}))
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3, "class": FIELD})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "rule-%s")
        super().__init__(*args, **kwargs)


class SnoozeForm(forms.Form):
    player_external_id = forms.CharField(
        label="Player (external id)", max_length=64, widget=forms.TextInput(attrs={"class": FIELD})
    )
    until = forms.DateField(
        label="Until (end of that day)",
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "class": FIELD}),
    )
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"class": FIELD}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "snooze-%s")
        super().__init__(*args, **kwargs)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"class": FIELD}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s" if kwargs.get("prefix") else "reason-%s")  # "publish-reason"
        super().__init__(*args, **kwargs)


class BacktestForm(forms.Form):
    """The period a backtest replays (UTC days, the end excluded): the last 90 days by default."""

    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date", "class": FIELD}, format="%Y-%m-%d"))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date", "class": FIELD}, format="%Y-%m-%d"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "%s")
        kwargs.setdefault("prefix", "backtest")
        if not args and "initial" not in kwargs:
            from datetime import timedelta

            from django.utils import timezone

            today = timezone.now().date()
            kwargs["initial"] = {"start": today - timedelta(days=90), "end": today + timedelta(days=1)}
        super().__init__(*args, **kwargs)


def _replayable(version: RuleVersion) -> bool:
    """A posting rule (the login kinds are not replayed on the ledger)."""
    from apps.compliance import kinds

    kind = kinds.KINDS.get(version.kind)
    return kind is not None and bool(kind.triggers) and not kind.sweep


def _backtest_of(version: RuleVersion) -> dict[str, Any] | None:
    """The version's latest backtest as the page shows it: progress while it runs, the summary once done."""
    from apps.compliance import backtest
    from apps.core.models import Job

    job = Job.objects.filter(kind=backtest.KIND, params__version=version.pk).order_by("-id").first()
    if job is None:
        return None
    shown = backtest.progress(job)
    return {**shown, "job": job, "start": job.params.get("start"), "end": job.params.get("end")}


def _first_error(form: forms.Form) -> str:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label or name}: {errors[0]}" if name != "__all__" else str(errors[0])
    return "The form is not valid."


# --- the rules -------------------------------------------------------------------------------------------------


def _version_summary(version: RuleVersion | None) -> str:
    if version is None:
        return "—"
    return format_html(
        '<a class="underline" href="{}">v{}</a> <span class="text-font-subtle-light">score {}, {}</span>',
        reverse("admin:compliance_ruleversion_change", args=[version.pk]),
        version.number,
        version.score,
        version.get_priority_display().lower(),
    )


@admin.register(Rule)
class RuleAdmin(ModelAdmin):  # type: ignore[misc]
    list_display = ("code_link", "name", "kind", "live", "shadow", "drafts", "precision")
    list_display_links = None
    ordering = ("code",)
    search_fields = ("code", "name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        # precision on history: of the rule's alerts whose case closed confirmed or refuted, the confirmed share
        # (two subqueries per rule, on the alerts' (rule, player, window) index; rules are few)
        def closed_as(outcome: str) -> Coalesce:
            alerts = Alert.objects.filter(rule_id=OuterRef("pk"), case__state=CaseState.CLOSED, case__outcome=outcome)
            counted = alerts.order_by().values("rule_id").annotate(n=Count("id")).values("n")[:1]
            return Coalesce(Subquery(counted), 0)

        return (
            super()
            .get_queryset(request)
            .prefetch_related("versions")
            .annotate(confirmed=closed_as(Outcome.CONFIRMED), refuted=closed_as(Outcome.REFUTED))
        )

    @admin.display(description="precision (closed cases)")
    def precision(self, obj: Rule) -> str:
        confirmed, refuted = int(getattr(obj, "confirmed", 0)), int(getattr(obj, "refuted", 0))
        if not confirmed + refuted:
            return "—"
        share = round(100 * confirmed / (confirmed + refuted))
        return f"{share}% ({confirmed} confirmed of {confirmed + refuted})"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(VIEW_RULE))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm(VIEW_RULE))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(VIEW_RULE) and request.user.has_perm(ADD_RULE))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _versions(self, obj: Rule, state: str, mode: str | None = None) -> list[RuleVersion]:
        return [v for v in obj.versions.all() if v.state == state and (mode is None or v.mode == mode)]

    @admin.display(description="rule")
    def code_link(self, obj: Rule) -> str:
        url = reverse("admin:compliance_rule_change", args=[obj.pk])
        return format_html('<a class="rule-link underline font-medium" href="{}">{}</a>', url, obj.code)

    @admin.display(description="live")
    def live(self, obj: Rule) -> str:
        found = self._versions(obj, VersionState.PUBLISHED, VersionMode.LIVE)
        return _version_summary(found[0] if found else None)

    @admin.display(description="shadow")
    def shadow(self, obj: Rule) -> str:
        found = self._versions(obj, VersionState.PUBLISHED, VersionMode.SHADOW)
        return _version_summary(found[0] if found else None)

    @admin.display(description="drafts and waiting")
    def drafts(self, obj: Rule) -> str:
        waiting = self._versions(obj, VersionState.PENDING) + self._versions(obj, VersionState.DRAFT)
        if not waiting:
            return "—"
        return " ".join(
            f"v{v.number} ({'waiting for publication' if v.state == VersionState.PENDING else 'draft'})"
            for v in sorted(waiting, key=lambda v: v.number)
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/draft/", view(self.draft_view), name="compliance_rule_draft"),
            path("<int:pk>/snooze/", view(self.snooze_view), name="compliance_rule_snooze"),
            *super().get_urls(),
        ]

    def _rule(self, request: HttpRequest, pk: Any) -> Rule:
        if not self.has_view_permission(request):
            raise PermissionDenied
        rule = Rule.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if rule is None:
            raise Http404("No such rule.")
        return rule

    def _page(self, request: HttpRequest, rule: Rule, bound: dict[str, Any] | None = None) -> HttpResponse:
        bound = bound or {}
        user = request.user
        latest = rule.versions.order_by("-number").first()
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "opts": Rule._meta,
            "title": f"Rule {rule.code}",
            "rule": rule,
            "kind": kinds.kind_for(rule.kind),
            "versions": list(rule.versions.select_related("created_by", "published_by").order_by("-number")),
            "snoozes": list(
                RuleSnooze.objects.filter(rule=rule, lifted_at__isnull=True, until__gt=now)
                .select_related("player", "created_by")
                .order_by("until")[:100]
            ),
            "draft_form": bound.get("draft")
            or (
                VersionForm(kind=rule.kind, params=latest.params if latest else None, initial=_settings_of(latest))
                if user.has_perm(ADD_VERSION)
                else None
            ),
            "snooze_form": bound.get("snooze") or (SnoozeForm() if user.has_perm(SNOOZE) else None),
            "rules_url": reverse("admin:compliance_rule_changelist"),
        }
        return TemplateResponse(request, "admin/compliance/rule_change.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        rule = self._rule(request, object_id)
        if request.method == "POST":
            raise PermissionDenied
        return self._page(request, rule)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RuleAddForm(request.POST or None)
        if request.method == "POST":
            if not form.is_valid():
                messages.error(request, f"No rule was created. {_first_error(form)}")
            else:
                data = form.cleaned_data
                try:
                    rule = rulebook.rule_create(
                        actor=staff_of(request),
                        code=data["code"],
                        name=data["name"],  # type: ignore[arg-type]
                        kind=data["kind"],
                        description=data.get("description") or "",
                    )
                except ApplicationError as exc:
                    messages.error(request, f"No rule was created: {_refusal(exc)}")
                else:
                    messages.success(request, f"Rule {rule.code} created: draft its first version below.")
                    return HttpResponseRedirect(reverse("admin:compliance_rule_change", args=[rule.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": Rule._meta,
            "title": "New rule",
            "form": form,
            "rules_url": reverse("admin:compliance_rule_changelist"),
        }
        return TemplateResponse(request, "admin/compliance/rule_add.html", context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        return self.change_view(request, object_id)

    def draft_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self._rule(request, pk)
        back = HttpResponseRedirect(reverse("admin:compliance_rule_change", args=[rule.pk]))
        if request.method != "POST":
            return back
        if not request.user.has_perm(ADD_VERSION):
            raise PermissionDenied
        form = VersionForm(request.POST, kind=rule.kind)
        if not form.is_valid():
            messages.error(request, f"No version was drafted. {_first_error(form)}")
            return self._page(request, rule, {"draft": form})
        data = form.cleaned_data
        try:
            version = rulebook.version_draft(
                actor=staff_of(request),  # type: ignore[arg-type]
                rule=rule,
                params=form.params(),
                score=data["score"],
                case_type=data["case_type"],
                priority=data["priority"],
                mode=data["mode"],
                note=data.get("note") or "",
            )
        except ApplicationError as exc:
            messages.error(request, f"No version was drafted: {_refusal(exc)}")
            return self._page(request, rule, {"draft": form})
        messages.success(request, f"Version {version.number} drafted: ask for its publication when it is ready.")
        return HttpResponseRedirect(reverse("admin:compliance_ruleversion_change", args=[version.pk]))

    def snooze_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self._rule(request, pk)
        back = HttpResponseRedirect(reverse("admin:compliance_rule_change", args=[rule.pk]))
        if request.method != "POST":
            return back
        if not request.user.has_perm(SNOOZE):
            raise PermissionDenied
        form = SnoozeForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing was snoozed. {_first_error(form)}")
            return self._page(request, rule, {"snooze": form})
        data = form.cleaned_data
        player = Player.objects.filter(external_id=data["player_external_id"].strip()).first()
        if player is None:
            messages.error(request, "Nothing was snoozed: no player has that external id.")
            return self._page(request, rule, {"snooze": form})
        until = timezone.make_aware(datetime.combine(data["until"], time(23, 59, 59)))
        try:
            rulebook.rule_snooze(
                actor=staff_of(request),
                rule=rule,
                player=player,
                until=until,  # type: ignore[arg-type]
                reason=data["reason"],
            )
        except ApplicationError as exc:
            messages.error(request, f"Nothing was snoozed: {_refusal(exc)}")
            return self._page(request, rule, {"snooze": form})
        messages.success(request, f"{rule.code} is quiet for {player.external_id} until {data['until']:%Y-%m-%d}.")
        return back


def _settings_of(version: RuleVersion | None) -> dict[str, Any]:
    if version is None:
        return {"score": 50, "priority": Priority.MEDIUM, "mode": VersionMode.SHADOW}
    return {
        "score": version.score,
        "case_type": version.case_type,
        "priority": version.priority,
        "mode": version.mode,
        "note": "",
    }


# --- versions ----------------------------------------------------------------------------------------------------


def param_words(version: RuleVersion) -> list[tuple[str, str]]:
    rows = []
    for name, value in (version.params or {}).items():
        if isinstance(value, dict) and set(value) == {"amount", "currency"}:
            shown = f"{value['currency']} {value['amount']}"
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value) or "none"
        elif isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,3}[hd]", value):
            shown = window_words(value)
        else:
            shown = str(value)
        rows.append((name.replace("_", " "), shown))
    return rows


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("version_link", "kind", "state", "mode", "score", "priority", "case_type", "published_at")
    list_display_links = None
    list_filter = ("state", "mode", "kind")
    list_select_related = ("rule",)
    ordering = ("rule__code", "-number")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("compliance.view_ruleversion"))

    @admin.display(description="version")
    def version_link(self, obj: RuleVersion) -> str:
        url = reverse("admin:compliance_ruleversion_change", args=[obj.pk])
        return format_html('<a class="underline" href="{}">{} v{}</a>', url, obj.rule.code, obj.number)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/do/<str:what>/", view(self.do_view), name="compliance_ruleversion_do"),
            *super().get_urls(),
        ]

    def _version(self, request: HttpRequest, pk: Any) -> RuleVersion:
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = RuleVersion.objects.select_related("rule").filter(pk=pk).first() if str(pk).isdigit() else None
        if found is None:
            raise Http404("No such version.")
        return found

    def _page(self, request: HttpRequest, version: RuleVersion, bound: dict[str, Any] | None = None) -> HttpResponse:
        bound = bound or {}
        user = request.user
        is_draft = version.state == VersionState.DRAFT
        from apps.approvals.models import Approval

        approval = (
            Approval.objects.filter(kind=rulebook.PUBLISH_KIND, target_id=str(version.pk)).order_by("-id").first()
        )
        hits = RuleHit.objects.filter(version=version)
        context = {
            **self.admin_site.each_context(request),
            "opts": RuleVersion._meta,
            "title": f"{version.rule.code} v{version.number}",
            "version": version,
            "rule": version.rule,
            "params": param_words(version),
            "hits": count_rows(hits),
            "shadow_hits": count_rows(hits.filter(shadow=True)),
            "alerts": count_rows(Alert.objects.filter(version=version)),
            "recent_hits": list(hits.select_related("player").order_by("-at")[:10]),
            "approval": approval,
            "edit_form": bound.get("edit")
            or (
                VersionForm(kind=version.kind, params=version.params, initial=_settings_of(version))
                if is_draft and user.has_perm(ADD_VERSION)
                else None
            ),
            "publish_form": bound.get("publish")
            or (ReasonForm(prefix="publish") if is_draft and user.has_perm(ADD_VERSION) else None),
            "retire_form": bound.get("retire")
            or (
                ReasonForm(prefix="retire")
                if version.state == VersionState.PUBLISHED and user.has_perm(PUBLISH)
                else None
            ),
            "evidence_rows": evidence_rows,
            "backtest_form": bound.get("backtest")
            or (BacktestForm() if user.has_perm("compliance.backtest_rule") and _replayable(version) else None),
            "backtest": _backtest_of(version),
        }
        return TemplateResponse(request, "admin/compliance/version_change.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        version = self._version(request, object_id)
        if request.method == "POST":
            raise PermissionDenied
        return self._page(request, version)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        return self.change_view(request, object_id)

    def do_view(self, request: HttpRequest, pk: int, what: str) -> HttpResponse:
        version = self._version(request, pk)
        back = HttpResponseRedirect(reverse("admin:compliance_ruleversion_change", args=[version.pk]))
        if what not in ("edit", "publish", "retire", "backtest"):
            raise Http404("No such form.")
        if request.method != "POST":
            return back
        if what == "backtest":
            return self._backtest(request, version, back)
        needed = PUBLISH if what == "retire" else ADD_VERSION
        if not request.user.has_perm(needed):
            raise PermissionDenied
        actor = staff_of(request)
        form: forms.Form = (
            VersionForm(request.POST, kind=version.kind) if what == "edit" else ReasonForm(request.POST, prefix=what)
        )
        if not form.is_valid():
            messages.error(request, f"Nothing was done. {_first_error(form)}")
            return self._page(request, version, {what: form})
        data = form.cleaned_data
        try:
            if what == "edit":
                assert isinstance(form, VersionForm)
                rulebook.version_update(
                    actor=actor,
                    version=version,
                    params=form.params(),
                    score=data["score"],  # type: ignore[arg-type]
                    case_type=data["case_type"],
                    priority=data["priority"],
                    mode=data["mode"],
                    note=data.get("note") or "",
                )
                done = "Draft saved."
            elif what == "publish":
                rulebook.version_publish_request(actor=actor, version=version, reason=data["reason"])  # type: ignore[arg-type]
                done = "Publication asked: a second person (the MLRO) decides it in the Approvals inbox."
            else:
                rulebook.version_retire(actor=actor, version=version, reason=data["reason"])  # type: ignore[arg-type]
                done = f"Version {version.number} retired: it checks nothing any more."
        except ApplicationError as exc:
            messages.error(request, f"Nothing was done: {_refusal(exc)}")
            return self._page(request, RuleVersion.objects.select_related("rule").get(pk=version.pk), {what: form})
        messages.success(request, done)
        return back

    def _backtest(self, request: HttpRequest, version: RuleVersion, back: HttpResponse) -> HttpResponse:
        """Start a backtest of the version over the period (backtest.backtest_start checks the permission)."""
        from apps.compliance import backtest

        form = BacktestForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing was done. {_first_error(form)}")
            return self._page(request, version, {"backtest": form})
        try:
            job = backtest.backtest_start(
                actor=staff_of(request), version=version, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
            )
        except ApplicationError as exc:
            messages.error(request, f"Nothing was done: {_refusal(exc)}")
            return self._page(request, version, {"backtest": form})
        messages.success(request, f"Backtest #{job.pk} started: this page shows its progress and then its result.")
        return back


# --- read-only: hits, alerts, snoozes ------------------------------------------------------------------------


def _player_link(player: Player) -> str:
    url = reverse("admin:players_player_change", args=[player.pk])
    return format_html(
        '<a class="underline" href="{}">{} {}</a> <span class="text-font-subtle-light">{}</span>',
        url,
        player.first_name,
        player.last_name,
        player.external_id,
    )


def _evidence_summary(evidence: Any) -> str:
    text = "; ".join(f"{label}: {words}" for label, words in evidence_rows(evidence)[:4])
    return text if len(text) <= 140 else f"{text[:139]}…"


@admin.register(RuleHit)
class RuleHitAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("at", "version", "player_link", "shadow", "window_key", "evidence_summary")
    list_filter = ("shadow",)
    list_select_related = ("version__rule", "player")
    ordering = ("-at",)
    sortable_by = ()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("compliance.view_rulehit"))

    @admin.display(description="player")
    def player_link(self, obj: RuleHit) -> str:
        return _player_link(obj.player)

    @admin.display(description="evidence")
    def evidence_summary(self, obj: RuleHit) -> str:
        return _evidence_summary(obj.evidence)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    """Alerts of the cases the member sees (every alert for the MLRO), each linking to its case."""

    list_display = (
        "number",
        "created_at",
        "rule_version",
        "player_link",
        "score",
        "hit_count",
        "case_link",
        "evidence_summary",
    )
    list_display_links = None
    list_select_related = ("rule", "version", "player", "case")
    ordering = ("-id",)
    sortable_by = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        queryset = super().get_queryset(request)
        user = request.user
        if not cases.sees_cases(user):
            return queryset.none()
        if cases.is_lead(user):
            return queryset
        visible = cases.cases_visible_to(user, Case.objects.filter(pk=OuterRef("case_id")))
        return queryset.filter(Exists(visible))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return cases.sees_cases(request.user) and bool(request.user.has_perm("compliance.view_alert"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        if obj is None or cases.is_lead(request.user):
            return True
        return obj.case is not None and cases.case_visible(request.user, obj.case)

    @admin.display(description="#")
    def number(self, obj: Alert) -> str:
        return f"#{obj.pk}"

    @admin.display(description="rule")
    def rule_version(self, obj: Alert) -> str:
        url = reverse("admin:compliance_ruleversion_change", args=[obj.version_id])
        return format_html('<a class="underline" href="{}">{} v{}</a>', url, obj.rule.code, obj.version.number)

    @admin.display(description="player")
    def player_link(self, obj: Alert) -> str:
        return _player_link(obj.player)

    @admin.display(description="case")
    def case_link(self, obj: Alert) -> str:
        if obj.case_id is None:
            return "—"
        url = reverse("admin:compliance_case_change", args=[obj.case_id])
        return format_html('<a class="underline" href="{}">Case #{}</a>', url, obj.case_id)

    @admin.display(description="evidence")
    def evidence_summary(self, obj: Alert) -> str:
        return _evidence_summary(obj.evidence)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        if request.method == "POST":  # alerts are read-only
            raise PermissionDenied
        alert = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if alert is None:
            raise Http404("No such alert.")
        if alert.case_id is not None:
            return HttpResponseRedirect(
                reverse("admin:compliance_case_change", args=[alert.case_id]) + f"#case-alert-{alert.pk}"
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(RuleSnooze)
class RuleSnoozeAdmin(ReadOnlyAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("rule", "player_link", "until", "reason", "created_by", "lifted_at")
    list_select_related = ("rule", "player", "created_by")
    ordering = ("-created_at",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("compliance.view_rulesnooze"))

    @admin.display(description="player")
    def player_link(self, obj: RuleSnooze) -> str:
        return _player_link(obj.player)
