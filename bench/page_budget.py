"""The start page, the player list and the player page at a million players, as ratios to the render floor of an
empty admin page (issue 12).

In-process, as admin_changelist: Django's test client with an OTP-verified session per role, so only the page's
own work is timed. The floor is a page with the full admin layout (unfold's header and the role's menu) and no
data of its own: a template that extends ``admin/base_site.html`` with ``admin.site.each_context``, behind
``admin_view`` like every admin page. It is not part of the product: this module is the URLconf while the
benchmark runs (``ROOT_URLCONF`` overridden: the floor's path, then the site's own URLs), and nothing else serves
it. The password-change page (a real admin page with a three-field form) is timed too, for comparison.

Seeded once, through the services where there are services (kept in the bench database): work for every queue
the three roles count (pending withdrawals, one waiting for a second approver, an adjustment, an exclusion lift,
an exclusion correction and a held identity edit to decide, dead webhooks) and, by bulk insert (the limit tracker
and the register client write these rows, not a staff service), 5,000 recent limit flags and 3,000 recent
register errors: queues above the start page's exact-count cap, counted by the planner's estimate. A player with
some history: a deposit limit, deposits and a withdrawal, a bonus block, a time-out, notes and tags (each an
audit event); every view of the page adds a ``player.viewed`` event.

The start page's dashboard (issue 18, apps/reports/dashboard.py) reads rollups only, seeded at a busy operator's
size by ``bench/dashboard_data.py`` (3,240,000 operator day rows: 36,000 a day, whatever the entries behind them;
1,500,000 player day rows). Finance Officer and MLRO see its money panel; the start page is timed for them four
ways: as it is read (each day's figures in the cache), as the first page of each minute reads it (it sends the
task that refreshes the open days), as a page reads it after a quarter of an hour without a worker (the open days
read from the rollups) and cold (every day read: after a cache flush), each against the same role's floor. The
refresh tasks it sends expire unread after a minute (no worker runs).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest
from django.template import engines
from django.template.response import TemplateResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.errors import ApplicationError
from apps.core.models import DeliveryStatus, OutboxDelivery, OutboxEvent
from apps.players import services as players
from apps.players.models import Player
from apps.responsible import services as responsible
from apps.responsible.choices import FlagKind, RegisterOutcome
from apps.responsible.models import Flag, RegisterCheck
from apps.staff import roles
from apps.staff.models import StaffUser
from apps.wallet import posting
from apps.wallet import services as wallet
from backoffice.urls import urlpatterns as site_urls
from bench import dashboard_data
from bench.players import ensure_players
from bench.timing import fmt, per_call

D = Decimal
FLOOR = "/admin/bench-floor/"
PASSWORD_CHANGE = "/admin/password_change/"
START = "/admin/"
LIST = "/admin/players/player/"
ROLES = (roles.ADMINISTRATOR, roles.SUPPORT_AGENT, roles.FINANCE_OFFICER, roles.MLRO)
MONEY_ROLES = (roles.FINANCE_OFFICER, roles.MLRO)  # the dashboard's money panel
FLAGS = 5_000
REGISTER_ERRORS = 3_000
ROUNDS = 9
WORK_MARK = "bench-page-budget"  # the reason and reference the seeded work carries (seeded once)

_FLOOR_TEMPLATE = engines["django"].from_string(
    '{% extends "admin/base_site.html" %}{% block content %}<p>Nothing here.</p>{% endblock %}'
)


def _floor(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(request, _FLOOR_TEMPLATE, {**admin.site.each_context(request), "title": "Floor"})


# this module is the URLconf while the benchmark runs (see the docstring)
urlpatterns = [path(FLOOR.lstrip("/"), admin.site.admin_view(_floor)), *site_urls]


def _staff(username: str, role: str) -> StaffUser:
    user, _ = StaffUser.objects.get_or_create(
        username=username, defaults={"email": f"{username}@staff.invalid", "is_staff": True}
    )
    user.groups.set([Group.objects.get(name=role)])
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return user


def _client(user: StaffUser) -> Client:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    assert device is not None
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def _funded(player: Player, amount: str) -> Player:
    posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency)
    return player


def _seed_work() -> None:
    """Work for every queue the three roles count; once (the lift request's reason marks it)."""
    from apps.approvals.models import Approval

    if Approval.objects.filter(reason=WORK_MARK).exists():
        return
    finance_maker = _staff("bench-maker-finance", roles.FINANCE_OFFICER)
    support_maker = _staff("bench-maker-support", roles.SUPPORT_AGENT)
    support_other = _staff("bench-maker-support-2", roles.SUPPORT_AGENT)
    gb = list(Player.objects.filter(country="GB", currency="GBP", status="active").order_by("id")[10:20])
    with transaction.atomic():
        for player in gb[:4]:
            _funded(player, "5000.00")
        for player in gb[:3]:
            wallet.withdrawal_request(player=player, amount=D("50.00"), currency="GBP")
        big = wallet.withdrawal_request(player=gb[3], amount=D("4000.00"), currency="GBP")
        wallet.withdrawal_approve(actor=finance_maker, withdrawal=big)  # above the threshold: a second approver
        wallet.adjustment_request(actor=finance_maker, player=gb[0], amount="500.00", reason="lost win")
        block = responsible.operator_exclude(actor=support_maker, player=gb[4], reason="chasing losses")
        responsible.operator_lift_request(actor=support_other, exclusion=block, reason=WORK_MARK)
        keyed = responsible.self_exclude(actor=None, player=gb[5], term="5y")
        responsible.exclusion_correction_request(actor=support_maker, exclusion=keyed, term="1y", reason="keyed 5y")
        event = OutboxEvent.objects.create(type="player.updated", key=gb[0].external_id, data={})
        for i in range(3):
            OutboxDelivery.objects.create(event=event, subscriber=f"b{i}", key=event.key, status=DeliveryStatus.DEAD)


def _seed_identity_edit() -> None:
    """A name edit of a self-excluded person's account, held for a second person; once."""
    from apps.responsible.choices import ExclusionKind
    from apps.responsible.models import Exclusion, IdentityChangeRequest

    if IdentityChangeRequest.objects.filter(reason=WORK_MARK).exists():
        return
    excluded = Exclusion.objects.filter(kind=ExclusionKind.SELF_EXCLUSION, player__isnull=False).order_by("id").first()
    assert excluded is not None and excluded.player_id is not None
    try:
        players.player_update(
            actor=_staff("bench-maker-kyc", roles.KYC_OFFICER),
            player=Player.objects.get(pk=excluded.player_id),
            changes={"last_name": "Smyth"},
            staff=True,
            reason=WORK_MARK,
        )
    except ApplicationError as held:
        assert held.code == "second_person_required", held.code


def _seed_recent_rows() -> None:
    """Limit flags and register errors inside the start page's windows (7 days, 24 hours), topped up each run
    (the rows age out of the windows between runs; flags are immutable, so new ones are added)."""
    now = timezone.now()
    recent_flags = Flag.objects.filter(kind=FlagKind.LIMIT_80, created_at__gte=now - timedelta(days=6)).count()
    if recent_flags < FLAGS:
        ids = Player.objects.order_by("-id").values_list("id", flat=True)[:FLAGS]
        key = f"bench-{int(time.time())}"
        Flag.objects.bulk_create(
            Flag(player_id=pk, kind=FlagKind.LIMIT_80, detail={"limit": "deposit"}, period_key=key) for pk in ids
        )
    recent_errors = RegisterCheck.objects.filter(outcome=RegisterOutcome.ERROR, at__gte=now - timedelta(hours=12))
    if recent_errors.count() < REGISTER_ERRORS:
        RegisterCheck.objects.bulk_create(
            RegisterCheck(register="gamstop", point="login", outcome=RegisterOutcome.ERROR, subject=WORK_MARK)
            for _ in range(REGISTER_ERRORS)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE responsible_flag")
        cursor.execute("ANALYZE responsible_registercheck")


def _player_with_history(actor: StaffUser) -> Player:
    """A GB player with a limit, ledger postings, a block, a time-out, notes and tags; seeded once."""
    from apps.responsible.models import Limit

    player = Player.objects.filter(country="GB", currency="GBP").order_by("id")[1]
    if Limit.objects.filter(player=player).exists():
        return player
    with transaction.atomic():
        responsible.limit_set(actor=None, player=player, kind="deposit", period="month", value="2000.00")
        for amount in ("100.00", "50.00", "25.00", "200.00"):
            _funded(player, amount)
        wallet.withdrawal_request(player=player, amount=D("30.00"), currency="GBP")
        players.player_note_add(actor=actor, player=player, text="Called about a bonus; explained the terms.")
        players.player_note_add(actor=actor, player=player, text="Asked for a limit; set by the player.")
        players.player_tags_set(actor=actor, player=player, tags=["bench", "vip-watch"])
        player = players.player_set_block(
            actor=actor, player=player, capability="bonus", blocked=True, reason="bonus abuse pattern"
        )
        responsible.time_out(actor=None, player=player, hours=24)
    return Player.objects.get(pk=player.pk)


def _getter(client: Client, url: str, before: Callable[[], object] | None = None) -> Callable[[], None]:
    def get() -> None:
        if before is not None:
            before()  # timed with the page: one Redis round trip
        response = client.get(url)
        assert response.status_code == 200 or (response.status_code == 204 and "partial=1" in url), (url, response)

    return get


def _queries(get: Callable[[], None]) -> int:
    with CaptureQueriesContext(connection) as captured:
        get()
    return len(captured)


def _start_page_counts(client: Client) -> str:
    html = client.get(START).content.decode()
    found = re.findall(r'data-queue="([^"]+)" data-count="(\d+)"', html)
    return ", ".join(f"{key.split('.', 1)[1]}={count}" for key, count in found) or "no queues"


def _forget(mode: str) -> Callable[[], object]:
    """What expires the dashboard's cached figures before a request: ``ask``, the open days' minute (the page sends
    the refresh task, as the first page of each minute does); ``open``, the open days' figures (the page reads them,
    as after a quarter of an hour without a worker); ``cold``, every day's (after a cache flush)."""
    from apps.reports import dashboard

    def forget() -> None:
        today = timezone.localdate()
        if mode == "ask":
            cache.delete_many([dashboard.FRESH_KEY, dashboard.REFRESHING_KEY])
        elif mode == "open":
            cache.delete_many([dashboard.day_key(d) for d in dashboard.open_days(today)])
        else:
            days = [today + timedelta(days=1 - n) for n in range(dashboard.DAYS + 1)]
            active = f"{dashboard.CACHE_PREFIX}:active:{today.isoformat()}"
            cache.delete_many([*(dashboard.day_key(d) for d in days), active])

    return forget


def _without_dashboard(get: Callable[[], None]) -> Callable[[], None]:
    """The same page with the dashboard's panel taken off the start page for the request (its own cost, by
    difference)."""
    from apps.core import dashboard as panels

    def without() -> None:
        (panel,) = [p for p in panels.panels() if p.key == "reports.dashboard"]
        panels.unregister_panel(panel.key)
        try:
            get()
        finally:
            panels.register_panel(panel.key, panel.template, context=panel.context, order=panel.order)

    return without


def _active_players() -> str:
    """The dashboard's figure (its sample, timed) against the exact count (one full aggregate, not timed)."""
    from apps.reports import dashboard

    today = timezone.localdate()
    start = today - timedelta(days=dashboard.DAYS - 1)
    seconds = per_call(lambda: dashboard._active_sampled(start, today, dashboard.ACTIVE_SAMPLE), n=1, repeats=5)
    found = dashboard._active_sampled(start, today, dashboard.ACTIVE_SAMPLE)
    exact = dashboard._active_exact(start, today, 10_000_000).count.value
    return (
        f"active players: the sample of {found.sample:,} ids says {found.count.value:,} ({found.low:,} to "
        f"{found.high:,}) in {fmt(seconds)}; exactly {exact:,}"
    )


def _money_sql_seconds() -> tuple[float, float]:
    """The money statement alone, over the 31 days a cold page reads and over the 3 a refresh reads."""
    from apps.reports import dashboard

    today = timezone.localdate()
    every = [today + timedelta(days=1 - n) for n in range(dashboard.DAYS + 1)]
    recent = every[:3]
    return (
        per_call(lambda: dashboard._read_days(every), n=1, repeats=3),
        per_call(lambda: dashboard._read_days(recent), n=1, repeats=5),
    )


def _pages(player: Player) -> dict[str, str]:
    return {
        "floor: empty admin page (baseline)": FLOOR,
        "password-change page (for comparison)": PASSWORD_CHANGE,
        "start page /admin/": START,
        "player list, first page": LIST,
        "player page (first response)": f"/admin/players/player/{player.pk}/change/",
        # the sections the page fetches after it (apps.players.page, deferred); 204 for a role that may not see one
        **{
            f"  then its {name} fragment": f"/admin/players/player/{player.pk}/section/{name}/?partial=1"
            for name in ("history", "wallet", "kyc")
        },
    }


def run() -> None:
    count = ensure_players()
    admin_user = _staff("bench-admin", roles.ADMINISTRATOR)
    _seed_work()
    _seed_identity_edit()
    _seed_recent_rows()
    facts = dashboard_data.ensure()
    player = _player_with_history(admin_user)
    baseline = "floor: empty admin page (baseline)"
    # rounds interleave the pages (each page n=3 calls per round), so a load that comes and goes on this shared
    # machine falls on every page alike; the ratio is the median of each round's page / floor
    times: dict[str, dict[str, list[float]]] = {}
    queries: dict[str, dict[str, int]] = {role: {} for role in ROLES}
    notes: dict[str, str] = {}
    with override_settings(ROOT_URLCONF=__name__):
        clients = {role: _client(_staff(f"bench-{role.lower().replace(' ', '-')}", role)) for role in ROLES}
        getters: dict[str, dict[str, Callable[[], None]]] = {}
        for role, client in clients.items():
            getters[role] = {label: _getter(client, url) for label, url in _pages(player).items()}
            if role in MONEY_ROLES:
                getters[role]["  start page without the dashboard"] = _without_dashboard(
                    getters[role]["start page /admin/"]
                )
                getters[role]["  start page, asking the minute's refresh"] = _getter(client, START, _forget("ask"))
                getters[role]["  start page, reading the open days"] = _getter(client, START, _forget("open"))
                getters[role]["  start page, dashboard cache cold"] = _getter(client, START, _forget("cold"))
            times[role] = {label: [] for label in getters[role]}
            for label, get in getters[role].items():
                get()  # warm caches and plans
                queries[role][label] = _queries(get)
            _getter(client, START)()  # the cold page's last call left the cache filled again
            notes[role] = _start_page_counts(client)
        for _ in range(ROUNDS):
            for role in ROLES:
                for label, get in getters[role].items():
                    times[role][label].append(per_call(get, n=3, repeats=1))
        cold_sql, recent_sql = _money_sql_seconds()
        active = _active_players()
    print(f"\n== page_budget: {count:,} players (baseline: an empty admin page, same layout, same role) ==")
    print(
        f"  dashboard rollups: reports_operator_day {facts['operator_rows']:,} rows "
        f"({facts['window_rows']:,} in the 30-day window), wallet_player_day {facts['player_day_rows']:,} rows; "
        f"the money statement alone: {fmt(cold_sql)} for 31 days, {fmt(recent_sql)} for the last 3"
    )
    print(f"  {active}")
    print("  (the dashboard reads no entry: at 10,000,000 entries or 1,000,000 these rollups are the same size)")
    for role in ROLES:
        floors = times[role][baseline]
        print(f"  {role} (start page queues: {notes[role]})")
        for label, samples in times[role].items():
            ratio = statistics.median(page / floor for page, floor in zip(samples, floors, strict=True))
            goal = "" if label.startswith(("floor", "password")) else "  (goal <= 2x)"
            seconds = statistics.median(samples)
            print(f"    {label:<40} {fmt(seconds)}   {ratio:5.2f}x  {queries[role][label]:3d} queries{goal}")
