"""Reports in the admin: the runs list (live progress bars while any run is running), a run's page (progress, log,
file with its SHA-256, download, re-run, cancel, mark filed), "Run a report" (a form built from the report type's
parameters), the due-date calendar, and the schedules (declared in code or made here; pause, resume, delete).
Every button posts to a view that calls apps.reports.runs or apps.reports.schedules, which check the permission
again; a person sees only the runs and schedules of the report types they may run."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin

from apps.core.errors import ApplicationError
from apps.reports import closes, runs, schedules
from apps.reports.models import ReportRun, RunState
from apps.reports.types import Param, ReportType, previous_month, report_type, uk_quarter_of
from apps.staff.models import staff_of

STATE_BADGE: dict[str, str] = {
    RunState.QUEUED: "bg-base-200 text-base-700",
    RunState.RUNNING: "bg-blue-100 text-blue-800",
    RunState.SUCCEEDED: "bg-green-100 text-green-800",
    RunState.FAILED: "bg-red-100 text-red-800",
    RunState.CANCELLED: "bg-base-200 text-base-700",
}


def _report_choices(user: Any) -> list[tuple[str, str]]:
    return [(code, kind.title) for code, kind in runs.runnable_types(user).items()]


class ReportFilter(admin.SimpleListFilter):
    title = "report"
    parameter_name = "report"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return _report_choices(request.user)

    def queryset(self, request: HttpRequest, queryset: QuerySet[ReportRun]) -> QuerySet[ReportRun]:
        return queryset.filter(report=self.value()) if self.value() else queryset


@admin.register(ReportRun)
class ReportRunAdmin(ModelAdmin):  # type: ignore[misc]
    list_display = ("run", "parameters", "format", "state_badge", "progress", "rows", "size", "asked_by", "queued_at")
    list_filter = (ReportFilter, "state", "source")
    list_per_page = 50
    show_full_result_count = False
    change_list_template = "admin/reports/reportrun/change_list.html"
    ordering = ("-queued_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportRun]:
        return runs.runs_visible_to(request.user, super().get_queryset(request).select_related("requested_by"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # "Run a report" asks through the service

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a run is the record of what was produced (its file goes by retention)

    @admin.display(description="run", ordering="id")
    def run(self, obj: ReportRun) -> str:
        kind = report_type(obj.report)
        return format_html(
            '<a class="underline" href="{}">{} #{}</a>',
            reverse("admin:reports_reportrun_page", args=[obj.pk]),
            kind.title if kind else obj.report,
            obj.pk,
        )

    @admin.display(description="parameters")
    def parameters(self, obj: ReportRun) -> str:
        return ", ".join(f"{name} {value}" for name, value in obj.params.items()) or "-"

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj: ReportRun) -> str:
        label = obj.get_state_display() + (" · filed" if obj.filed_at else "")
        return format_html(
            '<span class="rounded px-2 py-0.5 text-xs {}" data-state="{}">{}</span>',
            STATE_BADGE.get(obj.state, ""),
            obj.state,
            label,
        )

    @admin.display(description="progress")
    def progress(self, obj: ReportRun) -> str:
        return format_html(
            '<progress class="h-2 w-24" max="100" value="{}" aria-label="progress of run {}">{} %</progress>',
            obj.progress_percent,
            obj.pk,
            obj.progress_percent,
        )

    @admin.display(description="rows", ordering="row_count")
    def rows(self, obj: ReportRun) -> str:
        return f"{obj.row_count:,}"

    @admin.display(description="size")
    def size(self, obj: ReportRun) -> str:
        return _size(obj.file_size)

    @admin.display(description="asked by")
    def asked_by(self, obj: ReportRun) -> str:
        if obj.requested_by is not None:
            return str(obj.requested_by.get_full_name() or obj.requested_by.get_username())
        return obj.schedule or obj.source

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = dict(extra_context or {})
        visible = self.get_queryset(request)
        context["live"] = visible.filter(state__in=(RunState.QUEUED, RunState.RUNNING)).exists()
        context["can_run"] = bool(runs.runnable_types(request.user))
        context["can_schedule"] = request.user.has_perm("reports.schedule_report")  # type: ignore[union-attr]
        return super().changelist_view(request, context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied  # a run changes only through its buttons (cancel, mark filed)
        return HttpResponseRedirect(reverse("admin:reports_reportrun_page", args=[object_id]))

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("new/", wrap(self.new_view), name="reports_reportrun_new"),
            path("calendar/", wrap(self.calendar_view), name="reports_reportrun_calendar"),
            path("schedules/", wrap(self.schedules_view), name="reports_reportrun_schedules"),
            path(
                "schedules/<int:pk>/toggle/",
                wrap(require_POST(self.schedule_toggle_view)),
                name="reports_reportrun_schedule_toggle",
            ),
            path(
                "schedules/<int:pk>/delete/",
                wrap(require_POST(self.schedule_delete_view)),
                name="reports_reportrun_schedule_delete",
            ),
            path("<int:pk>/run/", wrap(self.page_view), name="reports_reportrun_page"),
            path("<int:pk>/download/", wrap(self.download_view), name="reports_reportrun_download"),
            path("<int:pk>/rerun/", wrap(require_POST(self.rerun_view)), name="reports_reportrun_rerun"),
            path("<int:pk>/cancel/", wrap(require_POST(self.cancel_view)), name="reports_reportrun_cancel"),
            path("<int:pk>/filed/", wrap(require_POST(self.filed_view)), name="reports_reportrun_filed"),
            *super().get_urls(),
        ]

    # --- helpers

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": ReportRun._meta, **extra}

    def _visible(self, request: HttpRequest, pk: int) -> ReportRun:
        if not request.user.has_perm("reports.view_reportrun"):  # type: ignore[union-attr]
            raise PermissionDenied
        try:
            return runs.run_get(request.user, pk)
        except ApplicationError:
            raise Http404("No such report run.") from None

    def _back(self, run: ReportRun) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:reports_reportrun_page", args=[run.pk]))

    # --- a run

    def page_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._visible(request, pk)
        kind = report_type(run.report)
        actor = staff_of(request)
        may_run = kind is not None and actor.has_perm(kind.permission)
        context = self._context(
            request,
            title=str(run),
            run=run,
            kind=kind,
            badge=STATE_BADGE.get(run.state, ""),
            live=run.state in (RunState.QUEUED, RunState.RUNNING),
            may_run=may_run,
            may_cancel=may_run and run.state in (RunState.QUEUED, RunState.RUNNING),
            may_download=may_run and run.state == RunState.SUCCEEDED and not run.file_deleted_at,
            may_file=may_run and run.state == RunState.SUCCEEDED and run.filed_at is None and kind and kind.due,
            size=_size(run.file_size),
        )
        return TemplateResponse(request, "admin/reports/reportrun/page.html", context)

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        run = self._visible(request, pk)
        try:
            download = runs.run_download(actor=staff_of(request), run=run)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(run)
        response = FileResponse(download.handle, as_attachment=True, filename=download.name)
        response["Content-Type"] = download.content_type
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Checksum-SHA256"] = run.sha256
        return response

    def rerun_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._visible(request, pk)
        try:
            again = runs.run_rerun(actor=staff_of(request), run=run)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return self._back(run)
        self.message_user(request, f"{again} asked for again.", messages.SUCCESS)
        return self._back(again)

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._visible(request, pk)
        try:
            done = runs.run_cancel(actor=staff_of(request), run=run)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            said = "cancelled" if done.state == RunState.CANCELLED else "will stop at its next step"
            self.message_user(request, f"{done} {said}.", messages.SUCCESS)
        return self._back(run)

    def filed_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._visible(request, pk)
        try:
            runs.run_mark_filed(actor=staff_of(request), run=run, reference=request.POST.get("reference", ""))
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"{run} recorded as filed.", messages.SUCCESS)
        return self._back(run)

    # --- asking for a run

    def new_view(self, request: HttpRequest) -> HttpResponse:
        actor = staff_of(request)
        choices = _report_choices(actor)
        if not choices:
            raise PermissionDenied
        code = request.POST.get("report") or request.GET.get("report") or ""
        kind = report_type(code) if code in dict(choices) else None
        form = None
        if kind is not None:
            form = ParamsForm(
                kind, request.POST if request.method == "POST" else None, initial=_initial(kind, request), user=actor
            )
            if request.method == "POST" and form.is_valid():
                try:
                    run = runs.run_request(
                        actor=actor, report=kind.code, params=form.params_texts(), format=form.cleaned_data["format"]
                    )
                except ApplicationError as exc:
                    for field, problem in (exc.fields or {}).items():
                        form.add_error(field if field in form.fields else None, problem)
                    if not exc.fields:
                        form.add_error(None, exc.message)
                else:
                    self.message_user(request, f"{run} asked for: it runs on the reports queue.", messages.SUCCESS)
                    return self._back(run)
        context = self._context(request, title="Run a report", choices=choices, kind=kind, form=form)
        return TemplateResponse(request, "admin/reports/reportrun/new.html", context)

    # --- due dates

    def calendar_view(self, request: HttpRequest) -> HttpResponse:
        actor = staff_of(request)
        if not runs.runnable_types(actor):
            raise PermissionDenied
        items = schedules.calendar(user=actor)
        context = self._context(
            request,
            title="Regulatory due dates",
            items=items,
            today=timezone.localdate(),
            closes=closes.recent_with_waiting(13),
        )
        return TemplateResponse(request, "admin/reports/reportrun/calendar.html", context)

    # --- schedules

    def schedules_view(self, request: HttpRequest) -> HttpResponse:
        actor = staff_of(request)
        types_ = runs.runnable_types(actor)
        if not types_:
            raise PermissionDenied
        may_schedule = actor.has_perm("reports.schedule_report")
        code = request.POST.get("report") or request.GET.get("report") or ""
        kind = types_.get(code)
        form = None
        if kind is not None and may_schedule:
            form = ScheduleForm(kind, request.POST if request.method == "POST" else None, user=actor)
            if request.method == "POST" and form.is_valid():
                try:
                    task = schedules.schedule_create(
                        actor=actor,
                        report=kind.code,
                        format=form.cleaned_data["format"],
                        params=form.params_texts(keep_empty=True),
                        crontab={part: form.cleaned_data[part] for part in schedules.CRON_FIELDS},
                        name=form.cleaned_data["name"],
                    )
                except ApplicationError as exc:
                    for field, problem in (exc.fields or {}).items():
                        form.add_error(field if field in form.fields else None, problem)
                else:
                    self.message_user(request, f"Scheduled: {task.name}.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:reports_reportrun_schedules"))
        rows = []
        for task in schedules.scheduled_tasks():
            kwargs = json.loads(task.kwargs or "{}")
            scheduled_kind = types_.get(str(kwargs.get("report")))
            if scheduled_kind is None:
                continue  # a schedule of a report this person may not run: not shown
            rows.append(
                {
                    "task": task,
                    "kind": scheduled_kind,
                    "format": kwargs.get("format", "csv"),
                    "params": kwargs.get("params") or {},
                    "when": _crontab_text(task),
                }
            )
        context = self._context(
            request,
            title="Report schedules",
            rows=rows,
            choices=[(c, k.title) for c, k in types_.items()],
            kind=kind,
            form=form,
            may_schedule=may_schedule,
        )
        return TemplateResponse(request, "admin/reports/reportrun/schedules.html", context)

    def _schedule(self, request: HttpRequest, pk: int) -> Any:
        from django_celery_beat.models import PeriodicTask

        actor = staff_of(request)
        if not actor.has_perm("reports.schedule_report"):
            raise PermissionDenied
        task = PeriodicTask.objects.filter(pk=pk, task=schedules.TASK).first()
        if task is None or str(json.loads(task.kwargs or "{}").get("report")) not in runs.runnable_types(actor):
            raise Http404("No such schedule.")
        return task

    def schedule_toggle_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        task = self._schedule(request, pk)
        done = schedules.schedule_set_enabled(actor=staff_of(request), task=task, enabled=not task.enabled)
        self.message_user(request, f"{done.name}: {'resumed' if done.enabled else 'paused'}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:reports_reportrun_schedules"))

    def schedule_delete_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        task = self._schedule(request, pk)
        name = task.name
        schedules.schedule_delete(actor=staff_of(request), task=task)
        self.message_user(request, f"{name}: deleted.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:reports_reportrun_schedules"))


# --- forms built from a report type's parameters


def _field(param: Param, *, for_schedule: bool) -> forms.Field:
    label = param.label or param.name.replace("_", " ").capitalize()
    required = param.required and not for_schedule and param.default is None
    help_text = param.help
    if for_schedule and param.kind in ("month", "quarter", "day"):
        help_text = "Leave empty: the period that has just ended when the schedule fires." + (
            f" {help_text}" if help_text else ""
        )
    attrs = {"class": "border rounded px-2 py-1"}
    if param.kind == "day":
        return forms.DateField(
            label=label,
            required=required,
            help_text=help_text,
            widget=forms.DateInput(attrs={**attrs, "type": "date"}, format="%Y-%m-%d"),
        )
    if param.kind == "month":
        return forms.CharField(
            label=label,
            required=required,
            help_text=help_text or "YYYY-MM",
            widget=forms.TextInput(attrs={**attrs, "type": "month"}),
        )
    if param.kind == "quarter":
        today = timezone.localdate()
        options = [uk_quarter_of(today - timedelta(days=91 * back)) for back in range(0, 9)]
        choices = [("", "-")] if not required else []
        return forms.ChoiceField(
            label=label,
            required=required,
            help_text=help_text or "UK quarters: Q1 = April-June",
            choices=choices + [(q, q) for q in dict.fromkeys(options)],
            widget=forms.Select(attrs=attrs),
        )
    if param.kind == "choice":
        return forms.ChoiceField(
            label=label,
            required=required,
            help_text=help_text,
            choices=([("", "-")] if not required else []) + [(c, c) for c in param.choices],
            widget=forms.Select(attrs=attrs),
        )
    if param.kind == "bool":
        return forms.ChoiceField(
            label=label,
            required=False,
            help_text=help_text,
            choices=[("no", "No"), ("yes", "Yes")],
            widget=forms.Select(attrs=attrs),
        )
    return forms.CharField(
        label=label, required=required, help_text=help_text, max_length=100, widget=forms.TextInput(attrs=attrs)
    )


class ParamsForm(forms.Form):
    """The report type's parameters as fields (their texts go to the service, which cleans and checks them)."""

    def __init__(
        self, kind: ReportType, *args: Any, user: Any = None, for_schedule: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.shown = kind.visible_params(user)
        for param in self.shown:
            self.fields[param.name] = _field(param, for_schedule=for_schedule)
        self.fields["format"] = forms.ChoiceField(
            choices=[(fmt, fmt.upper()) for fmt in kind.formats],
            widget=forms.Select(attrs={"class": "border rounded px-2 py-1"}),
        )

    def params_texts(self, *, keep_empty: bool = False) -> dict[str, str]:
        texts: dict[str, str] = {}
        for param in self.shown:
            value = self.cleaned_data.get(param.name)
            text = value.isoformat() if isinstance(value, date) else ("" if value is None else str(value))
            if text or keep_empty:
                texts[param.name] = text
        return texts


class ScheduleForm(ParamsForm):
    name = forms.CharField(max_length=120, required=False, help_text="A name for the schedule (optional)")

    def __init__(self, kind: ReportType, *args: Any, **kwargs: Any) -> None:
        super().__init__(kind, *args, for_schedule=True, **kwargs)  # user: as ParamsForm
        defaults = _schedule_defaults(kind)
        attrs = {"class": "border rounded px-2 py-1 w-20"}
        for part in schedules.CRON_FIELDS:
            self.fields[part] = forms.CharField(
                max_length=60, initial=defaults[part], label=part.replace("_", " "), widget=forms.TextInput(attrs=attrs)
            )
        self.fields["name"] = forms.CharField(
            max_length=120,
            required=False,
            help_text="A name for the schedule (optional)",
            widget=forms.TextInput(attrs={"class": "border rounded px-2 py-1"}),
        )


def _schedule_defaults(kind: ReportType) -> dict[str, str]:
    spec = kind.schedules[0] if kind.schedules else None
    if spec is not None:
        return {part: spec.crontab.get(part, "*") for part in schedules.CRON_FIELDS}
    if kind.due is not None and kind.due.cadence == "monthly":
        return {"minute": "0", "hour": "6", "day_of_month": "1", "month_of_year": "*", "day_of_week": "*"}
    return {"minute": "0", "hour": "6", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*"}


def _initial(kind: ReportType, request: HttpRequest) -> dict[str, Any]:
    today = timezone.localdate()
    initial: dict[str, Any] = {}
    for param in kind.params:
        given = request.GET.get(param.name)
        if given:
            initial[param.name] = given
        elif param.kind == "month":
            initial[param.name] = param.default_for(today) or previous_month(today)
        elif param.default_for(today):
            initial[param.name] = param.default_for(today)
    return initial


def _crontab_text(task: Any) -> str:
    cron = task.crontab
    if cron is None:
        return "interval"
    words = cron.human_readable  # django-celery-beat's words ("At 06:00 AM, on day 1 of the month UTC")
    return f"{cron.minute} {cron.hour} {cron.day_of_month} {cron.month_of_year} {cron.day_of_week}: {words}"


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return f"{size}"
