"""The player 360 page and a changelist that stays fast with millions of players."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.views import ChangeList

from apps.core.admin_tools import BigTableAdminMixin, ReadOnlyAdminMixin
from apps.core.errors import ApplicationError
from apps.core.read_scope import read_scope
from apps.core.visibility import ViewerAdminMixin, sees_compliance, viewer, visible_text
from apps.geo.models import Jurisdiction
from apps.players import services
from apps.players.admin_filters import CachedMarkupFilter, CachedTextFilter, brand_filter
from apps.players.brands import brand_save
from apps.players.choices import BlockAuthority, Capability, PlayerStatus, Visibility
from apps.players.forms import BlockForm, NoteForm, ProfileForm, StatusForm, TagsForm
from apps.players.models import Brand, Player, PlayerRestriction
from apps.players.page import Section, capability_panel, deferred_section, page_facts, placeholder, sections_for
from apps.players.selectors import players_same_person
from apps.players.timeline import history_section, player_timeline
from apps.staff.models import staff_of

PROFILE_FIELDS = [name for name in ProfileForm.base_fields if name != "reason"]
_FIXED_MARKUP: dict[tuple[Any, ...], SafeString] = {}


def fixed_markup(form: forms.Form, field: str | None = None) -> SafeString:
    """A form's ``as_p`` (or one field's widget), rendered once per process for each class, ids, initial values
    and language. For the page's forms whose markup depends on nothing else (fixed choices, no data bound): the
    widget templates cost about 0.15 ms a field, on every view of the player page (docs/PERFORMANCE.md)."""
    initial = tuple(sorted(form.initial.items()))
    key = (type(form), form.auto_id, initial, field, translation.get_language())
    if key not in _FIXED_MARKUP:
        _FIXED_MARKUP[key] = form.as_p() if field is None else SafeString(str(form[field]))
    return _FIXED_MARKUP[key]


_SENTINEL = "pitbossfieldvalue0sentinel"  # letters only: the same escaped as not
_WIDGET_MARKUP: dict[tuple[Any, ...], str] = {}


@dataclass(frozen=True)
class FieldMarkup:
    """What the player page's template reads of a bound field: its label, its id and its widget's markup."""

    id_for_label: str
    label: str
    html: SafeString

    def __str__(self) -> str:
        return self.html

    def __html__(self) -> SafeString:
        return self.html


def field_markup(form: forms.Form, name: str) -> SafeString:
    """The widget markup of an unbound form's field, as ``str(form[name])`` renders it, without its widget
    templates on every view: a choice, or an empty value, is kept per value (few values); any other value is put
    into the field's markup rendered once with a placeholder value (escaped as the template escapes it).
    ``tests/players/test_page_markup.py`` compares it with Django's rendering."""
    bound = form[name]
    widget = bound.field.widget
    value = widget.format_value(bound.value())
    base: tuple[Any, ...] = (type(form), form.auto_id, name, translation.get_language())
    if isinstance(widget, forms.Select) or not isinstance(value, str):
        key = (*base, "value", tuple(value) if isinstance(value, list) else value)
        if key not in _WIDGET_MARKUP:
            _WIDGET_MARKUP[key] = str(bound)
        return SafeString(_WIDGET_MARKUP[key])
    key = (*base, "placeholder")
    if key not in _WIDGET_MARKUP:
        _WIDGET_MARKUP[key] = str(type(form)(initial={name: _SENTINEL}, auto_id=form.auto_id)[name])
    skeleton = _WIDGET_MARKUP[key]
    if skeleton.count(_SENTINEL) != 1:  # a widget that shows its value twice or changes it: render it
        return SafeString(str(bound))
    return SafeString(skeleton.replace(_SENTINEL, conditional_escape(value)))


def form_fields_markup(form: forms.Form) -> list[FieldMarkup]:
    return [
        FieldMarkup(form[name].id_for_label, str(form[name].label), field_markup(form, name)) for name in form.fields
    ]


LIFT_REQUESTED = "Lift requested: a second person acting for the same authority must confirm it."


class StatusFilter(CachedMarkupFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(PlayerStatus.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Player]) -> QuerySet[Player]:
        return queryset.filter(status=self.value()) if self.value() else queryset


class CountryFilter(CachedMarkupFilter):
    """Choices from the (small) jurisdictions table, not a DISTINCT over millions of players."""

    title = "country of residence"
    parameter_name = "country"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = sorted({j.split("-", 1)[0] for j in Jurisdiction.objects.values_list("code", flat=True)})
        return [(c, c) for c in codes]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Player]) -> QuerySet[Player]:
        return queryset.filter(country=self.value()) if self.value() else queryset


class SamePersonFilter(CachedTextFilter):
    """Duplicate-person search: accounts sharing the identity fingerprint, e-mail or phone of a player."""

    title = "same person as (external id)"
    parameter_name = "same_person_as"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Player]) -> QuerySet[Player]:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        player = Player.objects.filter(external_id=value).first()
        if player is None:
            return queryset.none()
        return queryset.filter(pk__in=players_same_person(player).values("pk"))


class PlayerChangeList(ChangeList):  # type: ignore[misc]
    """Rows load the columns the list shows (a player row has 44, two of them addresses), not the whole row."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Player]:
        return super().get_queryset(request, exclude_parameters).only(*PlayerAdmin.list_columns)


def logins_section(request: HttpRequest, player: Player) -> dict[str, Any] | None:
    """Login rows (addresses, devices, refusal reasons) are for players.view_playerlogin, not every viewer."""
    if not request.user.has_perm("players.view_playerlogin"):
        return None
    return {"logins": list(player.logins.all()[:20])}


def same_person_section(request: HttpRequest, player: Player) -> dict[str, Any] | None:
    return {"same_person": list(players_same_person(player)[:20])}


# the page's own sections loaded after it (apps.players.page, deferred): below the fold, and each a read of its own
HISTORY = Section(
    "admin/players/player/history_section.html",
    history_section,
    deferred=True,
    name="history",
    title="History (audit trail)",
)
LOGINS = Section(
    "admin/players/player/logins_section.html", logins_section, deferred=True, name="sessions", title="Recent logins"
)
SAME_PERSON = Section(
    "admin/players/player/same_person_section.html",
    same_person_section,
    deferred=True,
    name="same-person",
    title="Possibly the same person",
)
OWN_SECTIONS = {s.name: s for s in (HISTORY, LOGINS, SAME_PERSON)}


@admin.register(Player)
class PlayerAdmin(BigTableAdminMixin, ModelAdmin):  # type: ignore[misc]
    list_display = ("external_id", "full_name", "email", "brand", "country", "currency", "status", "created_at")
    list_display_links = ("external_id", "full_name")
    # what list_display reads (full_name is first and last name); a column added above and missing here costs
    # one query per row (tests/players/test_changelist_rows.py counts them)
    list_columns = (
        "external_id",
        "first_name",
        "last_name",
        "email",
        "brand__name",
        "country",
        "currency",
        "status",
        "created_at",
    )
    list_select_related = ("brand",)
    list_filter = (brand_filter(), StatusFilter, CountryFilter, SamePersonFilter)
    list_filter_submit = True
    search_fields = ("external_id", "email", "username", "phone", "first_name", "last_name")
    search_help_text = "External id, e-mail, username, phone or name (any part)."
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # players are registered by the platform, through the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # AML retention: accounts are closed, never deleted

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PlayerChangeList

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj: Player) -> str:
        return f"{obj.first_name} {obj.last_name}"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/status/", view(self.status_view), name="players_player_status"),
            path("<int:pk>/block/", view(self.block_view), name="players_player_block"),
            path("<int:pk>/note/", view(self.note_view), name="players_player_note"),
            path("<int:pk>/tags/", view(self.tags_view), name="players_player_tags"),
            path("<int:pk>/profile/", view(self.profile_view), name="players_player_profile"),
            path("<int:pk>/section/<slug:name>/", view(self.section_view), name="players_player_section"),
            *super().get_urls(),
        ]

    # --- the 360 page replaces the change form --------------------------------------------------------
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        player = get_object_or_404(Player, pk=object_id)
        if not self.has_view_permission(request, player):
            raise PermissionDenied
        services.player_viewed(actor=staff_of(request), player=player)  # type: ignore[arg-type]
        # one moment for the page's reads: the panel's can() per action and the sections share the limit usage
        # and the exclusions (apps.core.read_scope); nothing below writes
        with read_scope():
            context = self._page_context(request, player)
        return TemplateResponse(request, "admin/players/player/player_360.html", context)

    def _page_context(self, request: HttpRequest, player: Player) -> dict[str, Any]:
        user = request.user
        compliance = sees_compliance(user)
        restrictions = list(player.restrictions.filter(lifted_at=None).select_related("placed_by", "lift_requested_by"))
        for restriction in restrictions:
            restriction.shown_reason = visible_text(restriction.reason, restriction.visibility, user)  # type: ignore[attr-defined]
        status_restriction = next((r for r in restrictions if r.what == PlayerRestriction.STATUS), None)
        status_reason = player.status_reason
        if status_restriction is not None:
            status_reason = visible_text(player.status_reason, status_restriction.visibility, user)
        notes = player.notes.select_related("author")
        if not user.has_perm("players.view_playernote"):
            notes = notes.none()
        elif not compliance:
            notes = notes.exclude(visibility=Visibility.COMPLIANCE)
        tags = sorted(player.tags.values_list("name", flat=True))
        note_form = NoteForm(auto_id="note-%s")
        can_edit = user.has_perm("players.change_player")
        can_tag = user.has_perm("players.change_player_tags")
        # the history is loaded on demand (section_view), for audit readers only (personal data)
        history = placeholder(HISTORY, player)[1] if user.has_perm("audit.view_auditevent") else None
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(player),
            "player": player,
            "same_person": placeholder(SAME_PERSON, player)[1],
            "logins": placeholder(LOGINS, player)[1] if user.has_perm("players.view_playerlogin") else None,
            "notes": list(notes[:50]),
            "tags": tags,
            "history": history,
            "restrictions": restrictions,
            "status_reason": status_reason,
            "panel": capability_panel(player, restrictions, status_reason, user, facts=page_facts(request, player)),
            "can_write_compliance_note": compliance,
            "can_read_notes": user.has_perm("players.view_playernote"),
            "blocks": [(c.value, c.label, getattr(player, f"blocked_{c.value}")) for c in Capability],
            # one page, several forms with a reason (and an authority): ids of their own, so each label finds its field
            "status_form_html": fixed_markup(StatusForm(initial={"status": player.status}, auto_id="status-form-%s")),
            "block_form_html": fixed_markup(BlockForm(auto_id="block-form-%s")),
            "note_form": note_form,
            "note_text_html": fixed_markup(note_form, "text"),
            "note_visibility_html": fixed_markup(note_form, "visibility"),
            # the profile form's fields and the tags field hold the player's values: see field_markup
            "profile_form": (
                form_fields_markup(
                    ProfileForm(initial={f: getattr(player, f) for f in PROFILE_FIELDS}, auto_id="profile-%s")
                )
                if can_edit
                else None
            ),
            "can_edit": can_edit,
            "tags_form": {"tags": field_markup(TagsForm(initial={"tags": ", ".join(tags)}), "tags")}
            if can_tag
            else None,
            "can_status": user.has_perm("players.change_player_status"),
            "can_block": user.has_perm("players.change_player_blocks"),
            "can_note": user.has_perm("players.add_playernote"),
            "can_tag": can_tag,
            "sections": sections_for(request, player),
        }

    def section_view(self, request: HttpRequest, pk: int, name: str) -> HttpResponse:
        """A deferred section of the player page (apps.players.page): the page's permission check, then the
        section's own context function decides what it shows, as on the page. No ``player.viewed`` event: the page
        view wrote it. ``?partial=1`` (the page's script) answers the section alone, and 204 when the viewer may
        not see it; without it (the placeholder's link) the section is a page of the admin, or 403."""
        section = OWN_SECTIONS.get(name) or deferred_section(name)
        if section is None:
            raise Http404
        player = get_object_or_404(Player, pk=pk)
        if not self.has_view_permission(request, player):
            raise PermissionDenied
        with read_scope():
            context = section.context(request, player)
        partial = request.GET.get("partial") == "1"
        if context is None:
            if partial:
                return HttpResponse(status=204)
            raise PermissionDenied
        page = {"template": section.template, "section": context, "player": player, "title": section.title}
        if partial:
            return TemplateResponse(request, "admin/players/player/section_fragment.html", page)
        page.update(self.admin_site.each_context(request), opts=self.model._meta)
        return TemplateResponse(request, "admin/players/player/section_page.html", page)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        """The admin's "History" is the player's audit timeline (Django's LogEntry history is never written:
        every change goes through a service and its audit event)."""
        player = get_object_or_404(Player, pk=object_id)
        if not self.has_view_permission(request, player) or not request.user.has_perm("audit.view_auditevent"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"History of {player}",
            "player": player,
            "history": player_timeline(player, request.user, limit=500),
        }
        return TemplateResponse(request, "admin/players/player/history.html", context)

    def _action(
        self, request: HttpRequest, pk: int, perm: str, form_class: type[forms.Form], call: Any
    ) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:players_player_change", args=[pk]))
        if not request.user.has_perm(perm):
            raise PermissionDenied
        player = get_object_or_404(Player, pk=pk)
        form = form_class(request.POST)
        name = f"{player.first_name} {player.last_name} ({player.external_id})"
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label or field.replace("_", " ") if field in form.fields else field
                messages.error(request, f"{name}: {label}: {' '.join(str(e) for e in errors)}")
        else:
            try:
                done = call(player, form.cleaned_data)
            except ApplicationError as exc:
                messages.error(request, f"{name}: {exc.message}")
            else:
                messages.success(request, f"{name}: {done}")
        return HttpResponseRedirect(reverse("admin:players_player_change", args=[pk]))

    def status_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def change(player: Player, data: dict[str, Any]) -> str | None:
            after = services.player_set_status(actor=staff_of(request), player=player, **data)
            if after.status != data["status"]:
                return LIFT_REQUESTED
            return f"status changed to {after.get_status_display()}."

        return self._action(request, pk, "players.change_player_status", StatusForm, change)

    def block_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def change(player: Player, data: dict[str, Any]) -> str | None:
            after = services.player_set_block(actor=staff_of(request), player=player, **data)
            if getattr(after, f"blocked_{data['capability']}") != data["blocked"]:
                return LIFT_REQUESTED
            what = Capability(data["capability"]).label.lower()
            return f"{what} {'blocked' if data['blocked'] else 'unblocked'}."

        return self._action(request, pk, "players.change_player_blocks", BlockForm, change)

    def note_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._action(
            request,
            pk,
            "players.add_playernote",
            NoteForm,
            lambda p, d: (
                services.player_note_add(
                    actor=staff_of(request), player=p, text=d["text"], visibility=d.get("visibility") or "general"
                )
                and "note added."
            ),
        )

    def tags_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._action(
            request,
            pk,
            "players.change_player_tags",
            TagsForm,
            lambda p, d: (
                services.player_tags_set(actor=staff_of(request), player=p, tags=d["tags"].split(",")) and "tags saved."
            ),
        )

    def profile_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        def save(player: Player, data: dict[str, Any]) -> str:
            reason = data.pop("reason")
            changes = {k: v for k, v in data.items() if getattr(player, k) != v}
            if not changes:
                return "nothing changed."
            services.player_update(actor=staff_of(request), player=player, changes=changes, staff=True, reason=reason)
            return "profile corrected (" + ", ".join(sorted(changes)).replace("_", " ") + ")."

        return self._action(request, pk, "players.change_player", ProfileForm, save)


@admin.register(Brand)
class BrandAdmin(ModelAdmin):  # type: ignore[misc]
    list_display = ("name", "code", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "code")
    readonly_fields = ("created_at",)
    fields = ("code", "name", "is_active", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code", "created_at") if obj is not None else ("created_at",)  # the code is how clients name it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # players and API clients refer to it: deactivate instead

    def save_model(self, request: HttpRequest, obj: Brand, form: forms.ModelForm, change: bool) -> None:
        saved = brand_save(actor=staff_of(request), brand=obj)  # type: ignore[arg-type]
        obj.pk = saved.pk


class LiftFilter(admin.SimpleListFilter):
    """The checkers' queue: lifts asked by one person and waiting for a second of the same authority."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "In force"), ("lift_requested", "Lift requested"), ("lifted", "Lifted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[PlayerRestriction]) -> QuerySet[PlayerRestriction]:
        if self.value() == "active":
            return queryset.filter(lifted_at=None)
        if self.value() == "lift_requested":
            return queryset.filter(lifted_at=None, lift_requested_by__isnull=False)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


class AuthorityFilter(admin.SimpleListFilter):
    title = "authority"
    parameter_name = "authority"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(BlockAuthority.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[PlayerRestriction]) -> QuerySet[PlayerRestriction]:
        return queryset.filter(authority=self.value()) if self.value() else queryset


@admin.register(PlayerRestriction)
class PlayerRestrictionAdmin(ViewerAdminMixin, ReadOnlyAdminMixin, ModelAdmin):  # type: ignore[misc]
    """Every status and block with its authority and reason (compliance reasons for compliance staff only).
    Lifts are asked and confirmed on the player page, by two people of the authority where it is protected."""

    list_display = ("player", "restriction", "authority", "shown_reason", "placed_by", "placed_at", "lift_state")
    list_select_related = ("player", "placed_by", "lift_requested_by", "lifted_by")
    list_filter = (LiftFilter, AuthorityFilter)
    ordering = ("-placed_at",)
    fields = (
        "player",
        "restriction",
        "authority",
        "shown_reason",
        "placed_by",
        "placed_at",
        "lift_requested_by",
        "lift_requested_at",
        "lifted_by",
        "lifted_at",
    )
    readonly_fields = fields

    @admin.display(description="restriction")
    def restriction(self, obj: PlayerRestriction) -> str:
        return obj.get_status_display() if obj.what == PlayerRestriction.STATUS else f"{obj.what} blocked"

    @admin.display(description="reason")
    def shown_reason(self, obj: PlayerRestriction) -> str:
        return visible_text(obj.reason, obj.visibility, viewer())

    @admin.display(description="lift")
    def lift_state(self, obj: PlayerRestriction) -> str:
        if obj.lifted_at:
            return f"lifted {obj.lifted_at:%Y-%m-%d %H:%M} by {obj.lifted_by or 'system'}"
        if obj.lift_requested_by_id:
            return f"asked by {obj.lift_requested_by}: a second person confirms on the player page"
        return "—"
