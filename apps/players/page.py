"""The player 360 page: its header panel (what the player may do now, and why not) and the sections other apps
contribute.

Sections of the player 360 page contributed by other apps (wallet, and later limits, KYC, bonuses, cases).

An app registers ``(template, context_function)`` from its AppConfig.ready(); the players app knows nothing
of them. The context function gets the request and the player and returns the template's context, or None to
hide the section (e.g. when the staff member may not see it).

A section registered ``deferred=True`` is not built with the page (issue 12's page budget): the page holds a
placeholder in its place, and static/pitboss/player_sections.js fetches the section from its own admin view
(``PlayerAdmin.section_view``: the page's permission check, then the section's context function, so it shows
nothing the page would not) when it is scrolled near; the placeholder's link opens it as a page without
JavaScript. A fragment load writes no ``player.viewed`` event: the page view did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from apps.players.choices import Action
from apps.players.eligibility import evaluate, facts_for

DEFERRED_TEMPLATE = "admin/players/player/deferred_section.html"


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    deferred: bool = False
    name: str = ""  # the fragment URL's part: by default the app's label in the template path (admin/<app>/...)
    title: str = ""  # the placeholder's heading: by default that app's verbose name
    # a deferred section's "may this viewer see it at all", asked before its placeholder is put on the page (a
    # permission test, no query): False leaves no placeholder (compliance's cases: the tipping-off wall)
    visible: Callable[[HttpRequest], bool] | None = None


_sections: list[Section] = []


def register_section(
    template: str,
    context: Callable[[HttpRequest, Any], dict[str, Any] | None],
    *,
    deferred: bool = False,
    name: str = "",
    title: str = "",
    visible: Callable[[HttpRequest], bool] | None = None,
) -> None:
    if any(s.template == template for s in _sections):
        return
    parts = template.split("/")
    name = name or (parts[1] if len(parts) > 2 else parts[0].removesuffix(".html"))
    if not title:
        from django.apps import apps

        try:
            title = str(apps.get_app_config(name).verbose_name)
        except LookupError:
            title = name
    _sections.append(Section(template, context, deferred, name, title, visible))


def deferred_section(name: str) -> Section | None:
    return next((s for s in _sections if s.deferred and s.name == name), None)


def placeholder(section: Section, player: Any) -> tuple[str, dict[str, Any]]:
    """The deferred section's place on the page: its heading and the link to its fragment."""
    from django.urls import reverse

    url = reverse("admin:players_player_section", args=[player.pk, section.name])
    return DEFERRED_TEMPLATE, {"name": section.name, "title": section.title, "url": url}


def page_facts(request: HttpRequest, player: Any) -> dict[str, Any]:
    """The player's eligibility facts, read once per page request: the panel and the sections that need them
    share one read (one moment), instead of reading the row again each. A copy each time: readers may add to it."""
    memo: dict[int, dict[str, Any]] = request.__dict__.setdefault("_player_page_facts", {})
    if player.pk not in memo:
        facts = facts_for(player_id=player.pk)
        assert facts is not None
        memo[player.pk] = facts
    return dict(memo[player.pk])


def sections_for(request: HttpRequest, player: Any) -> list[tuple[str, dict[str, Any]]]:
    """The page's sections in order: each one's template and context, a deferred one's placeholder."""
    rendered = []
    for section in _sections:
        if section.deferred:
            if section.visible is None or section.visible(request):
                rendered.append(placeholder(section, player))
            continue
        context = section.context(request, player)
        if context is not None:
            rendered.append((section.template, context))
    return rendered


# --- the header panel: what the player may do now, from the live ``can()`` ---------------------------------

# Every refusal code ``can()`` answers with (apps.players, apps.geo, apps.responsible), in the operator's words.
REASON_TEXT: dict[str, str] = {
    "account_suspended": "the account is suspended",
    "account_blocked": "the account is blocked",
    "account_closed": "the account is closed",
    "blocked_for_deposit": "deposits are blocked",
    "blocked_for_bet": "betting is blocked",
    "blocked_for_withdrawal": "withdrawals are blocked",
    "blocked_for_bonus": "bonuses are blocked",
    "blocked_for_marketing": "marketing is blocked",
    "underage": "under the minimum age of the jurisdiction",
    "jurisdiction_blocked": "the country of residence is not served",
    "registration_blocked": "the jurisdiction is closed to registrations",
    "currency_not_allowed": "the wallet currency is not allowed in the jurisdiction",
    "no_marketing_consent": "no marketing consent on any channel",
    "game_category_required": "the game category is needed to check the stake caps",
    "stake_cap_currency_unsupported": "a stake cap in another currency cannot be checked",
    "stake_limit_exceeded": "the stake is above the jurisdiction's cap",
    "ip_invalid": "the IP address is not valid",
    "ip_blocked": "the IP address is in a blocked network",
    "ip_country_unknown": "the IP country is unknown and play must come from inside the market",
    "ip_country_blocked": "the IP country is blocked",
    "ip_country_mismatch": "the IP country differs from the residence",
    "timed_out": "taking a time-out",
    "self_excluded": "self-excluded",
    "operator_excluded": "excluded by the operator",
    "operator_blocked": "blocked by the operator (responsible gambling)",
    "self_excluded_national": "on the national self-exclusion register",
    "register_unavailable": "the national register could not be asked",
    "limit_required": "a deposit limit must be set first",
    "limit_reached": "a limit is reached",
    "limit_currency_unsupported": "a limit in another currency cannot be measured",
    "kyc_required": "identity verification is required (an open KYC requirement)",
    "kyc_level_insufficient": "a higher verification level is needed in this jurisdiction",
    "bonus_max_bet": "the stake is above the active bonus's maximum bet",
}
EXCLUSION_BADGES = {"self_excluded": "Self-excluded", "timed_out": "Timed out", "operator_excluded": "Excluded"}
# what closes an action without restricting the account (a player who never opted in to marketing)
NOT_RESTRICTIONS = frozenset({"no_marketing_consent"})
SHOWN_ACTIONS = (
    Action.LOGIN,
    Action.DEPOSIT,
    Action.BET,
    Action.GAME_LAUNCH,
    Action.WITHDRAW,
    Action.BONUS,
    Action.MARKETING,
)


@dataclass
class CapabilityRow:
    action: str
    label: str
    allowed: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class Panel:
    rows: list[CapabilityRow]
    badge: str
    tone: str  # "ok", "warn" or "danger": the badge's colour
    banners: list[str]


ReasonDetails = Callable[[Any, Any], dict[str, str]]
_reason_details: list[ReasonDetails] = []


def register_reason_detail(details: ReasonDetails) -> ReasonDetails:
    """``details(player, user)`` returns, per refusal code, what the viewer may read about it (e.g. which
    exclusion and why); apps that refuse for their own reasons register one, the players app knows none of them."""
    if details not in _reason_details:
        _reason_details.append(details)
    return details


def reason_text(code: str) -> str:
    return REASON_TEXT.get(code, code.replace("_", " "))


def _until(value: str | None) -> str:
    if not value:
        return ""
    try:
        return f" until {datetime.fromisoformat(value):%d %b %Y %H:%M} UTC"
    except ValueError:
        return ""


def capability_panel(
    player: Any, restrictions: list[Any], status_reason: str, user: Any = None, *, facts: dict[str, Any] | None = None
) -> Panel:
    """``can()`` for every action (one read of the facts, then each action's checks), from Pitboss's own data:
    no national register is asked by a page view.

    ``restrictions`` are the player's restrictions in force with ``shown_reason`` already redacted for the
    viewer (apps.core.visibility): their reasons go beside the block they explain. ``facts``: the page's read of
    them (``page_facts``), else they are read here."""
    by_what = {r.what: r for r in restrictions}
    detail: dict[str, str] = {}
    for details in _reason_details:
        detail.update(details(player, user))
    rows: list[CapabilityRow] = []
    excluded_until = ""
    codes: set[str] = set()
    if facts is None:
        facts = facts_for(player_id=player.pk)  # one read of the player's row for every action: one moment
    assert facts is not None
    now = timezone.now()
    for action in SHOWN_ACTIONS:
        result = evaluate(dict(facts), action, now=now, ask_registers=False)
        codes.update(result.reasons)
        excluded_until = excluded_until or result.restrictions.get("excluded_until", "")
        words = []
        for code in result.reasons:
            text = reason_text(code)
            restriction = None
            if code.startswith("account_"):
                restriction = by_what.get("status")
                why = restriction.shown_reason if restriction is not None else status_reason
            elif code.startswith("blocked_for_"):
                restriction = by_what.get(code.removeprefix("blocked_for_"))
                why = restriction.shown_reason if restriction is not None else ""
            else:
                why = detail.get(code, "")
            if code in EXCLUSION_BADGES:
                text += _until(result.restrictions.get("excluded_until"))
            if restriction is not None:
                text += f" ({restriction.get_authority_display()})"
            words.append(f"{text}: {why}" if why else text)
        rows.append(CapabilityRow(action, Action(action).label, result.allowed, words))
    closed = [r.label.lower() for r in rows if not r.allowed]
    banners = []
    for code, badge in EXCLUSION_BADGES.items():
        if code in codes:
            stays = " Withdrawals stay open." if all(r.allowed for r in rows if r.action == Action.WITHDRAW) else ""
            why = f" ({detail[code]})" if code in detail else ""
            banners.append(f"{badge}{_until(excluded_until)}{why}: {', '.join(closed)} refused.{stays}")
    if "operator_blocked" in codes:
        blocked = [r.label.lower() for r in rows if any("operator" in w for w in r.reasons)]
        why = f" ({detail['operator_blocked']})" if "operator_blocked" in detail else ""
        banners.append(f"Blocked by the operator{why}: {', '.join(blocked)} refused.")
    if player.status != "active":
        restriction = by_what.get("status")
        why = restriction.shown_reason if restriction is not None else status_reason
        banners.append(f"Account {player.get_status_display().lower()}" + (f": {why}" if why else "."))
    blocks = [r for r in restrictions if r.what != "status"]
    if blocks:
        banners.append(
            "Blocked: " + "; ".join(f"{r.what} ({r.get_authority_display()}): {r.shown_reason}" for r in blocks)
        )
    if player.status != "active":
        badge, tone = player.get_status_display(), "danger"
    elif exclusion := next((b for c, b in EXCLUSION_BADGES.items() if c in codes), None):
        badge, tone = exclusion, "danger"
    elif codes - NOT_RESTRICTIONS:
        badge, tone = "Active, restricted", "warn"
    else:
        badge, tone = "Active", "ok"
    return Panel(rows=rows, badge=badge, tone=tone, banners=banners)
