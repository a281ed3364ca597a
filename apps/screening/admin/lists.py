"""The watchlists (AML Analysts, the MLRO): each list with its current snapshot, the snapshots with what each
added, changed and removed, the entries; the MLRO's import form (``imports.import_list``: the whole file is
validated before anything is stored, so a malformed file is one message naming the line and nothing changes); the
re-screen of the player base (``rescreen_job``: its progress, refreshed every few seconds, and "Re-screen now");
and the batch screening of a customer file (``batch.screen_file``: the results CSV as a download, nobody stored).
Who holds no ``screening.*`` permission gets 403 on every page (the tipping-off wall)."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Func, IntegerField, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminFileFieldWidget

from apps.core.admin_tools import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.errors import ApplicationError
from apps.screening import batch, imports, rescreen_job
from apps.screening.models import ListEntry, ListSnapshot, SourceFormat, WatchList
from apps.staff.models import staff_of

VIEW_LIST = "screening.view_watchlist"
VIEW_SNAPSHOT = "screening.view_listsnapshot"
VIEW_ENTRY = "screening.view_listentry"
IMPORT = "screening.import_list"
SCREEN_FILE = "screening.screen_file"
LIST_FILE_MAX = 64 * 1024 * 1024  # OFAC's sdn.csv is about 4 MB, the UN XML about 2 MB
CUSTOMER_FILE_MAX = 5 * 1024 * 1024  # about 100,000 rows; bigger files go through manage.py screen_file
REFRESH_SECONDS = 5
FIELD_CLASS = "border border-base-200 rounded-default px-3 py-2 w-full"


def _length(field: str) -> Func:
    return Func(F(field), function="jsonb_array_length", output_field=IntegerField())


def _may(user: Any, permission: str) -> bool:
    return bool(user.is_active and user.has_perm(permission))


def _file_size_check(upload: Any, limit: int) -> Any:
    if upload is not None and upload.size > limit:
        raise forms.ValidationError(f"The file is {upload.size:,} bytes; at most {limit:,} are accepted here.")
    return upload


# unfold's file widget: the chosen file's name shows in its box (and unfold's script, which fills that box on every
# file input of a page, finds the box it looks for instead of failing on a plain input)
FileWidget = UnfoldAdminFileFieldWidget


class ImportForm(forms.Form):
    fmt = forms.ChoiceField(
        label="Format",
        choices=SourceFormat.choices,
        widget=forms.Select(attrs={"class": FIELD_CLASS}),
    )
    file = forms.FileField(
        label="List file", help_text="sdn.csv, the UN consolidated XML, or a simple CSV", widget=FileWidget
    )
    alt = forms.FileField(
        label="OFAC alt.csv (optional)", required=False, help_text="OFAC only: the aliases file", widget=FileWidget
    )

    def clean_file(self) -> Any:
        return _file_size_check(self.cleaned_data.get("file"), LIST_FILE_MAX)

    def clean_alt(self) -> Any:
        return _file_size_check(self.cleaned_data.get("alt"), LIST_FILE_MAX)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("alt") is not None and data.get("fmt") != SourceFormat.OFAC_SDN:
            self.add_error("alt", "An alt.csv goes with an OFAC sdn.csv only.")
        return data


class ScreenFileForm(forms.Form):
    file = forms.FileField(
        label="Customer file (CSV)",
        help_text="columns name, birth_date (YYYY-MM-DD or YYYY), country",
        widget=FileWidget,
    )

    def clean_file(self) -> Any:
        return _file_size_check(self.cleaned_data.get("file"), CUSTOMER_FILE_MAX)


def _first_error(form: forms.Form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "The form is not valid."


def rescreen_state() -> dict[str, Any]:
    """The running re-screen's progress, or the snapshots still waiting for one."""
    job = rescreen_job.running()
    waiting = ListSnapshot.objects.filter(rescreened_at=None).count()
    if job is None:
        return {"running": False, "waiting": waiting}
    done = rescreen_job.progress(job)
    percent = max(0.0, min(100.0, float(done["percent"])))
    return {
        "running": True,
        "job": job,
        "percent": percent,
        "percent_css": f"{percent:.1f}",
        "snapshot": done["snapshot"],
        "snapshots": sorted(done["snapshots"].items()),
        "waiting": waiting,
    }


@admin.register(WatchList)
class WatchListAdmin(ReadOnlyAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("list_link", "code", "source_format", "current_col", "entries", "imported")
    list_display_links = None
    list_select_related = ("current", "current__imported_by")
    ordering = ("code",)
    sortable_by = ()
    actions = None
    search_fields = ()
    list_before_template = "admin/screening/watchlist/list_header.html"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may(request.user, VIEW_LIST)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request.user, VIEW_LIST)

    @admin.display(description="list")
    def list_link(self, obj: WatchList) -> str:
        url = reverse("admin:screening_watchlist_change", args=[obj.pk])
        return format_html('<a class="screening-list-link underline font-medium" href="{}">{}</a>', url, obj.name)

    @admin.display(description="current snapshot")
    def current_col(self, obj: WatchList) -> str:
        if obj.current is None:
            return "—"
        url = reverse("admin:screening_listsnapshot_change", args=[obj.current.pk])
        return format_html('<a class="underline" href="{}">#{}</a> {}', url, obj.current.pk, obj.current.file_name)

    @admin.display(description="entries")
    def entries(self, obj: WatchList) -> str:
        return f"{obj.current.entry_count:,}" if obj.current else "0"

    @admin.display(description="imported")
    def imported(self, obj: WatchList) -> str:
        if obj.current is None:
            return "—"
        who = obj.current.imported_by
        when = timezone.localtime(obj.current.imported_at).strftime("%Y-%m-%d %H:%M")
        return f"{when} by {who}" if who else when

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        user = request.user
        extra = {
            "may_import": _may(user, IMPORT),
            "may_screen_file": _may(user, SCREEN_FILE),
            "rescreen": rescreen_state() if _may(user, VIEW_LIST) else {},
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="screening_watchlist_import"),
            path("rescreen/", view(self.rescreen_view), name="screening_watchlist_rescreen"),
            path("screen-file/", view(self.screen_file_view), name="screening_watchlist_screen_file"),
            *super().get_urls(),
        ]

    def _page(self, request: HttpRequest, template: str, title: str, **context: Any) -> HttpResponse:
        return TemplateResponse(
            request,
            f"admin/screening/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": WatchList._meta,
                "title": title,
                "lists_url": reverse("admin:screening_watchlist_changelist"),
                **context,
            },
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not _may(request.user, VIEW_LIST):
            raise PermissionDenied
        if request.method == "POST":
            raise PermissionDenied
        watchlist = WatchList.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        if watchlist is None:
            raise Http404("No such list.")
        snapshots = (
            list(watchlist.snapshots.select_related("imported_by").order_by("-id")[:100])
            if _may(request.user, VIEW_SNAPSHOT)
            else None
        )
        return self._page(
            request, "watchlist_change.html", f"Watchlist {watchlist.name}", watchlist=watchlist, snapshots=snapshots
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        return self.change_view(request, object_id)

    # --- the import -----------------------------------------------------------------------------------------------
    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (_may(request.user, VIEW_LIST) and _may(request.user, IMPORT)):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST":
            if not form.is_valid():
                messages.error(request, f"Nothing was imported. {_first_error(form)}")
            else:
                data = form.cleaned_data
                upload, alt = data["file"], data.get("alt")
                try:
                    results = imports.import_list(
                        fmt=data["fmt"],
                        data=upload.read(),
                        file_name=(upload.name or "upload")[:200],
                        alt=alt.read() if alt is not None else None,
                        actor=staff_of(request),
                    )
                except ApplicationError as exc:
                    messages.error(request, f"Nothing was imported: {exc.message}")
                else:
                    for result in results:
                        messages.success(request, result.summary())
                    if any(not r.unchanged for r in results):
                        messages.info(request, "The player base is re-screened against what changed.")
                    return HttpResponseRedirect(reverse("admin:screening_watchlist_changelist"))
        return self._page(request, "import.html", "Import a watchlist file", form=form)

    # --- the re-screen ------------------------------------------------------------------------------------------
    def rescreen_view(self, request: HttpRequest) -> HttpResponse:
        if not _may(request.user, VIEW_LIST):
            raise PermissionDenied
        may_start = _may(request.user, IMPORT)
        if request.method == "POST":
            if not may_start:
                raise PermissionDenied
            try:
                job = rescreen_job.rescreen_start()
            except ApplicationError as exc:
                messages.error(request, f"The re-screen did not start: {exc.message}")
            else:
                if job is None:
                    messages.info(request, "Every snapshot is already re-screened: nothing to do.")
                else:
                    messages.success(request, f"Re-screen running (job #{job.pk}).")
            return HttpResponseRedirect(reverse("admin:screening_watchlist_rescreen"))
        state = rescreen_state()
        return self._page(
            request,
            "rescreen.html",
            "Re-screen of the player base",
            rescreen=state,
            may_start=may_start,
            refresh=REFRESH_SECONDS if state["running"] else None,
            last=ListSnapshot.objects.exclude(rescreened_at=None).order_by("-rescreened_at").first(),
        )

    # --- the batch screening of a customer file -------------------------------------------------------------------
    def screen_file_view(self, request: HttpRequest) -> HttpResponse:
        if not (_may(request.user, VIEW_LIST) and _may(request.user, SCREEN_FILE)):
            raise PermissionDenied
        form = ScreenFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST":
            if not form.is_valid():
                messages.error(request, f"Nothing was screened. {_first_error(form)}")
            else:
                upload = form.cleaned_data["file"]
                try:
                    text = upload.read().decode("utf-8-sig")
                except UnicodeDecodeError:
                    messages.error(request, "Nothing was screened: the file is not UTF-8 text.")
                else:
                    if "\x00" in text:
                        messages.error(request, "Nothing was screened: the file holds NUL bytes (not a CSV).")
                    else:
                        target = io.StringIO()
                        try:
                            rows, hits = batch.screen_file(io.StringIO(text, newline=""), target)
                        except ApplicationError as exc:
                            messages.error(request, f"Nothing was screened: {exc.message}")
                        else:
                            response = HttpResponse(target.getvalue(), content_type="text/csv; charset=utf-8")
                            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
                            response["Content-Disposition"] = f'attachment; filename="screening-{stamp}.csv"'
                            response["X-Content-Type-Options"] = "nosniff"
                            response["X-Screened-Rows"] = str(rows)
                            response["X-Screened-Hits"] = str(hits)
                            return response
        return self._page(request, "screen_file.html", "Screen a customer file", form=form)


@admin.register(ListSnapshot)
class ListSnapshotAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("snapshot_link", "watchlist", "file_name", "entry_count", "counts", "imported", "rescreened")
    list_display_links = None
    list_select_related = ("watchlist", "imported_by")
    list_filter = ("watchlist",)
    ordering = ("-id",)
    sortable_by = ()
    actions = None
    search_fields = ()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may(request.user, VIEW_SNAPSHOT)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request.user, VIEW_SNAPSHOT)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ListSnapshot]:
        # the id lists can hold 15,000 ids (a first OFAC import): their lengths are counted in the database
        return (
            super()
            .get_queryset(request)
            .defer("added", "changed", "removed")
            .annotate(**{f"n_{name}": _length(name) for name in ("added", "changed", "removed")})
        )

    @admin.display(description="snapshot")
    def snapshot_link(self, obj: ListSnapshot) -> str:
        url = reverse("admin:screening_listsnapshot_change", args=[obj.pk])
        return format_html('<a class="screening-snapshot-link underline font-medium" href="{}">#{}</a>', url, obj.pk)

    @admin.display(description="added / changed / removed")
    def counts(self, obj: ListSnapshot) -> str:
        return " / ".join(str(getattr(obj, f"n_{name}", 0) or 0) for name in ("added", "changed", "removed"))

    @admin.display(description="imported")
    def imported(self, obj: ListSnapshot) -> str:
        when = timezone.localtime(obj.imported_at).strftime("%Y-%m-%d %H:%M")
        return f"{when} by {obj.imported_by}" if obj.imported_by else when

    @admin.display(description="re-screened")
    def rescreened(self, obj: ListSnapshot) -> str:
        if obj.rescreened_at is None:
            return "waiting"
        return timezone.localtime(obj.rescreened_at).strftime("%Y-%m-%d %H:%M")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not _may(request.user, VIEW_SNAPSHOT) or request.method == "POST":
            raise PermissionDenied
        snapshot = (
            ListSnapshot.objects.select_related("watchlist", "imported_by", "previous").filter(pk=object_id).first()
            if str(object_id).isdigit() and len(str(object_id)) < 19
            else None
        )
        if snapshot is None:
            raise Http404("No such snapshot.")
        shown = 50
        context = {
            **self.admin_site.each_context(request),
            "opts": ListSnapshot._meta,
            "title": f"Snapshot #{snapshot.pk} of {snapshot.watchlist.name}",
            "snapshot": snapshot,
            "is_current": snapshot.watchlist.current_id == snapshot.pk,
            "counts": {
                "added": len(snapshot.added),
                "changed": len(snapshot.changed),
                "removed": len(snapshot.removed),
            },
            "added": snapshot.added[:shown],
            "changed": snapshot.changed[:shown],
            "removed": snapshot.removed[:shown],
            "shown": shown,
            "entries_url": reverse("admin:screening_listentry_changelist") + f"?snapshot__id__exact={snapshot.pk}"
            if _may(request.user, VIEW_ENTRY)
            else "",
            "lists_url": reverse("admin:screening_watchlist_changelist"),
        }
        return TemplateResponse(request, "admin/screening/snapshot_change.html", context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        return self.change_view(request, object_id)


@admin.register(ListEntry)
class ListEntryAdmin(ReadOnlyAdminMixin, BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("entry_id", "name", "entry_type", "birth_dates", "countries", "programs", "snapshot")
    list_display_links = None
    list_select_related = ("snapshot__watchlist",)
    ordering = ("snapshot", "entry_id")
    sortable_by = ()
    actions = None
    search_fields = ("entry_id",)  # an exact id (the name index is the screening's, not a LIKE)
    search_help_text = "The list's own entry id"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may(request.user, VIEW_ENTRY)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request.user, VIEW_ENTRY)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ListEntry], search_term: str
    ) -> tuple[QuerySet[ListEntry], bool]:
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if not term.isprintable() or len(term) > 64:
            return queryset.none(), False
        return queryset.filter(entry_id=term), False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup in {"snapshot__id__exact", "snapshot__id"} or super().lookup_allowed(lookup, value, request)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not _may(request.user, VIEW_ENTRY) or request.method == "POST":
            raise PermissionDenied
        return super().change_view(request, object_id, form_url, extra_context)
