"""The case page: the header (state, priority, the SLA clock with its due time and whether it is paused,
assignee, inbox), the timeline, the alerts with their rule's evidence in words, the linked ledger transactions,
the players sharing a device, IP or payment instrument with the case's player, and the one-click forms (start,
note, wait, resume, escalate, close, reopen, assign, the four actions). Each form posts to ``do`` which calls the
service; a refusal is one message (``ApplicationError.message``) and the page again, never a 500. Who may not see
the case gets the same 404 as for a case that does not exist (the tipping-off wall)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from apps.compliance import actions, cases, forms
from apps.compliance.admin.display import (
    event_line,
    evidence_rows,
    evidence_transactions,
    sla_badge,
    sla_words,
    state_badge,
)
from apps.compliance.choices import CaseEventKind, CaseState, Outcome
from apps.compliance.errors import CaseNotFound
from apps.compliance.models import Alert, Case, CaseAttachment, CaseEvent, CaseTransaction
from apps.core.errors import ApplicationError
from apps.players.models import Player, PlayerLogin
from apps.staff.models import staff_of

LINKED_LIMIT = 20  # identifiers of the player looked at, and players shown per identifier


def case_or_404(request: HttpRequest, object_id: Any) -> Case:
    try:
        return cases.case_get(request.user, object_id)
    except CaseNotFound as exc:
        raise Http404("No such case.") from exc


# --- what the page shows -----------------------------------------------------------------------------------


def linked_players(player: Player | None) -> list[dict[str, Any]]:
    """Other players sharing a device, an IP address (their logins) or a payment instrument (their ledger) with
    ``player``: each identifier of the player's last logins and transactions, and who else used it. Served by
    player_login_device_idx, player_login_ip_idx and rg_wallet_txn_instrument_idx; bounded."""
    if player is None:
        return []
    from apps.wallet.models import LedgerTransaction

    logins = PlayerLogin.objects.filter(player=player).order_by("-at")
    devices = {d for d in logins.exclude(device_id="").values_list("device_id", flat=True)[:200] if d}
    ips = {str(i) for i in logins.exclude(ip__isnull=True).values_list("ip", flat=True)[:200] if i}
    instruments = {
        f
        for f in LedgerTransaction.objects.filter(player=player)
        .exclude(instrument_fingerprint="")
        .order_by("-id")
        .values_list("instrument_fingerprint", flat=True)[:200]
        if f
    }
    shared: dict[int, dict[str, Any]] = {}

    def add(player_id: int, what: str, value: str) -> None:
        row = shared.setdefault(player_id, {"player_id": player_id, "shares": []})
        if (what, value) not in row["shares"]:
            row["shares"].append((what, value))

    # one query per kind of identifier (each an IN on its index), at most LINKED_LIMIT identifiers and
    # LINKED_LIMIT * LINKED_LIMIT pairs read
    pairs = LINKED_LIMIT * LINKED_LIMIT
    by_device = PlayerLogin.objects.filter(device_id__in=sorted(devices)[:LINKED_LIMIT]).exclude(player=player)
    for pid, device in by_device.values_list("player_id", "device_id").distinct()[:pairs]:
        add(pid, "device", device)
    by_ip = PlayerLogin.objects.filter(ip__in=sorted(ips)[:LINKED_LIMIT]).exclude(player=player)
    for pid, ip in by_ip.values_list("player_id", "ip").distinct()[:pairs]:
        add(pid, "IP address", str(ip))
    paid = LedgerTransaction.objects.filter(instrument_fingerprint__in=sorted(instruments)[:LINKED_LIMIT]).exclude(
        player=player
    )
    for pid, fingerprint in paid.values_list("player_id", "instrument_fingerprint").distinct()[:pairs]:
        if pid is not None:
            add(pid, "payment instrument", f"…{fingerprint[-8:]}")
    players = Player.objects.in_bulk(list(shared))
    rows = []
    for pid, row in sorted(shared.items()):
        if pid in players:
            rows.append({**row, "player": players[pid]})
    return rows


def transactions_of(case: Case) -> list[Any]:
    from apps.wallet.models import LedgerTransaction

    ids = list(CaseTransaction.objects.filter(case=case).values_list("transaction_id", flat=True)[:500])
    return list(LedgerTransaction.objects.filter(pk__in=ids).order_by("-created_at", "-id")[:200])


def alerts_of(case: Case) -> list[dict[str, Any]]:
    rows = []
    for alert in Alert.objects.filter(case=case).select_related("rule", "version").order_by("-id")[:50]:
        rows.append(
            {
                "alert": alert,
                "evidence": evidence_rows(alert.evidence),
                "transactions": evidence_transactions(alert.evidence),
            }
        )
    return rows


def timeline_of(case: Case) -> list[dict[str, Any]]:
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")
    return [{"event": e, "line": event_line(e)} for e in events[:500]]


def _forms(request: HttpRequest, case: Case, bound: dict[str, Any]) -> dict[str, Any]:
    """The forms this member may use on this case now (the service decides again when it is posted)."""
    user = request.user
    works = cases.may_work(user, case)
    state = case.state
    shown: dict[str, Any] = {}

    def offer(name: str, when: bool, **kwargs: Any) -> None:
        if when:
            shown[name] = bound.get(name) or forms.FORMS[name](**kwargs)

    is_open = state != CaseState.CLOSED
    offer("start", works and state in cases.TRANSITIONS["start"])
    offer("note", works and is_open)
    offer("wait", works and state in cases.TRANSITIONS["wait"])
    offer("resume", works and state in cases.TRANSITIONS["resume"])
    offer("escalate", works and state in cases.TRANSITIONS["escalate"])
    offer("close", works and state in cases.TRANSITIONS["close"])
    offer("reopen", works and not is_open)
    if is_open and user.has_perm(cases.ASSIGN):
        from apps.compliance.admin.cases import assignees

        offer("assign", True, assignees=assignees(), initial={"assignee": case.assignee_id})
    offer("attach", works and is_open)
    offer("action", works and is_open and case.player_id is not None and user.has_perm(actions.PERMISSION))
    return shown


def context(model_admin: Any, request: HttpRequest, case: Case, bound: dict[str, Any]) -> dict[str, Any]:
    user = request.user
    player = case.player
    pending = None
    if case.state == CaseState.PENDING_APPROVAL:
        from apps.approvals.models import Approval

        pending = (
            Approval.objects.filter(kind=cases.CONFIRM_KIND, target_id=str(case.pk), state="pending")
            .select_related("maker")
            .first()
        )
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Case._meta,
        "title": f"Case #{case.pk}: {case.title}",
        "case": case,
        "player": player,
        "now": timezone.now(),
        "sla_words": sla_words(case),
        "sla_badge": sla_badge(case),
        "state_badge": state_badge(case),
        "paused": case.state == CaseState.WAITING,
        "works": cases.may_work(user, case),
        "timeline": timeline_of(case) if user.has_perm("compliance.view_caseevent") else None,
        "alerts": alerts_of(case) if user.has_perm("compliance.view_alert") else None,
        "transactions": transactions_of(case) if user.has_perm("compliance.view_casetransaction") else None,
        "attachments": list(CaseAttachment.objects.filter(case=case).order_by("-uploaded_at")[:50])
        if user.has_perm("compliance.view_caseattachment")
        else None,
        "linked": linked_players(player),
        "pending_approval": pending,
        "approved_by": _approver(case),
        "forms": _forms(request, case, bound),
        "confirmed": Outcome.CONFIRMED,
        # the MLRO's way to a report to the FIU; nobody else is told that reports exist (apps/sars, the wall)
        "sar_draft_url": f"{reverse('admin:sars_sar_add')}?case={case.pk}"
        if request.user.has_perm("sars.draft_sar") and case.player_id is not None
        else None,
        "inbox_url": reverse("admin:compliance_case_changelist"),
    }


def _approver(case: Case) -> str:
    """Who gave the second approval of the case's last confirmed closing (its timeline says it)."""
    if case.state != CaseState.CLOSED or case.outcome != Outcome.CONFIRMED:
        return ""
    event = (
        CaseEvent.objects.filter(case=case, kind=CaseEventKind.APPROVAL, data__approved=True)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    actor = event.actor if event is not None else None
    return str(actor.get_full_name() or actor) if actor is not None else ""


def render(model_admin: Any, request: HttpRequest, case: Case, bound: dict[str, Any] | None = None) -> HttpResponse:
    return TemplateResponse(
        request, "admin/compliance/case_change.html", context(model_admin, request, case, bound or {})
    )


def page(model_admin: Any, request: HttpRequest, object_id: Any) -> HttpResponse:
    case = case_or_404(request, object_id)
    if request.method == "POST":  # nothing is edited here: each form posts to its own view
        raise PermissionDenied
    return render(model_admin, request, case)


# --- the forms' posts ----------------------------------------------------------------------------------------


def _call(what: str, request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    """Run the service for ``what``; return the success message."""
    actor = staff_of(request)
    if what == "start":
        cases.case_start(actor=actor, case=case)  # type: ignore[arg-type]
        return "Work started: the case is in progress."
    if what == "note":
        cases.case_note(actor=actor, case=case, text=data["text"])  # type: ignore[arg-type]
        return "Note added to the timeline."
    if what == "wait":
        cases.case_wait(actor=actor, case=case, waiting_on=data["waiting_on"], text=data["text"])  # type: ignore[arg-type]
        return "Waiting: the SLA clock is paused until you resume."
    if what == "resume":
        cases.case_resume(actor=actor, case=case, text=data.get("text") or "")  # type: ignore[arg-type]
        return "Resumed: the SLA clock runs again."
    if what == "escalate":
        cases.case_escalate(actor=actor, case=case, text=data["text"])  # type: ignore[arg-type]
        return "Escalated to the MLRO."
    if what == "close":
        closed = cases.case_close(actor=actor, case=case, outcome=data["outcome"], reason=data["reason"])  # type: ignore[arg-type]
        if closed.state == CaseState.PENDING_APPROVAL:
            return "Closing as confirmed needs a second person: the request waits in the Approvals inbox."
        return f"Case closed: {closed.get_outcome_display().lower()}."
    if what == "reopen":
        cases.case_reopen(actor=actor, case=case, reason=data["reason"])  # type: ignore[arg-type]
        return "Case reopened."
    if what == "assign":
        assignee = data.get("assignee")
        cases.case_assign(actor=actor, case=case, assignee=assignee)  # type: ignore[arg-type]
        return f"Assigned to {assignee.get_full_name() or assignee.username}." if assignee else "Unassigned."
    if what == "attach":
        from apps.compliance.attachments import case_attach

        upload = data["file"]
        attached = case_attach(
            actor=actor,  # type: ignore[arg-type]
            case=case,
            data=upload,
            declared_name=upload.name or "",
            declared_type=upload.content_type or "",
        )
        return f"{attached.original_name} attached ({attached.size:,} bytes)."
    if what == "action":
        done = actions.case_action(actor=actor, case=case, action=data["action"], reason=data["reason"])  # type: ignore[arg-type]
        return _action_words(data["action"], done)
    raise Http404("No such form.")


def _action_words(action: str, done: dict[str, object]) -> str:
    if "held" in done:
        n = int(done["held"])  # type: ignore[call-overload]
        return f"{n} open withdrawal{'s' if n != 1 else ''} held (Finance reads “{actions.NEUTRAL_HOLD}”)."
    if "status" in done:
        return "The account is restricted (suspended on the compliance authority)."
    if "requirement" in done:
        return "Enhanced due diligence (KYC level 3) is required of the player."
    return "An operator exclusion is imposed."


def _first_error(form: Any) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "The form is not valid."


def do(model_admin: Any, request: HttpRequest, pk: int, what: str) -> HttpResponse:
    case = case_or_404(request, pk)
    back = HttpResponseRedirect(reverse("admin:compliance_case_change", args=[case.pk]))
    form_class = forms.FORMS.get(what)
    if form_class is None:
        raise Http404("No such form.")
    if request.method != "POST":
        return back
    kwargs: dict[str, Any] = {}
    if what == "assign":
        from apps.compliance.admin.cases import assignees

        kwargs["assignees"] = assignees()
    form = form_class(request.POST, request.FILES, **kwargs)
    if not form.is_valid():
        messages.error(request, f"Nothing was done. {_first_error(form)}")
        return render(model_admin, request, case, {what: form})
    try:
        done = _call(what, request, case, form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, f"Nothing was done: {exc.message}")
        return render(model_admin, request, case_or_404(request, case.pk), {what: form})
    messages.success(request, done)
    if not cases.case_visible(request.user, Case.objects.get(pk=case.pk)):
        return HttpResponseRedirect(reverse("admin:compliance_case_changelist"))  # assigned away from them
    return back


# --- opening a case by hand -----------------------------------------------------------------------------------


def open_page(model_admin: Any, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    initial = {"priority": "medium"}
    player_pk = request.GET.get("player", "")
    if player_pk.isdigit():
        found = Player.objects.filter(pk=int(player_pk)).values_list("external_id", flat=True).first()
        if found:
            initial["player_external_id"] = found
    form = forms.OpenCaseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        player = Player.objects.filter(external_id=data["player_external_id"].strip()).first()
        if player is None:
            messages.error(request, "Nothing was opened: no player has that external id.")
        else:
            try:
                case = cases.case_open(
                    actor=staff_of(request),  # type: ignore[arg-type]
                    player=player,
                    case_type=data["case_type"],
                    title=data["title"],
                    text=data.get("text") or "",
                    priority=data["priority"],
                )
            except ApplicationError as exc:
                messages.error(request, f"Nothing was opened: {exc.message}")
            else:
                messages.success(request, f"Case #{case.pk} opened in {case.inbox or 'no inbox'}.")
                if cases.case_visible(request.user, case):
                    return HttpResponseRedirect(reverse("admin:compliance_case_change", args=[case.pk]))
                return HttpResponseRedirect(reverse("admin:compliance_case_changelist"))
    elif request.method == "POST":
        messages.error(request, f"Nothing was opened. {_first_error(form)}")
    page_context = {
        **model_admin.admin_site.each_context(request),
        "opts": Case._meta,
        "title": "Open a case",
        "form": form,
        "inbox_url": reverse("admin:compliance_case_changelist"),
    }
    return TemplateResponse(request, "admin/compliance/case_open.html", page_context)


def attachment(model_admin: Any, request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """A case's file, for staff who may see the case (``attachment_read`` audits every read), as a download:
    never shown inline, its type as validated on upload."""
    from django.http import HttpResponse as Response

    from apps.compliance.attachments import attachment_read

    case = case_or_404(request, pk)
    found = CaseAttachment.objects.filter(pk=attachment_pk, case=case).first()
    if found is None or not request.user.has_perm("compliance.view_caseattachment"):
        raise Http404("No such file.")
    try:
        content = attachment_read(actor=staff_of(request), attachment=found)  # type: ignore[arg-type]
    except CaseNotFound as exc:
        raise Http404("No such file.") from exc
    response = Response(content, content_type=found.content_type)
    safe = "".join(c for c in found.original_name if c.isalnum() or c in "._- ")[:100] or "attachment"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
