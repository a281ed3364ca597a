from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import SystemActor
from apps.core.models import OutboxEvent
from apps.players.eligibility import can
from apps.responsible import services
from apps.responsible.models import Flag, LimitChange
from apps.wallet import events, posting
from apps.wallet.models import LedgerTransaction
from apps.wallet.services import withdrawal_request
from tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db
ACTOR = SystemActor("tests")
D = Decimal


def deposit(player, amount):
    """A deposit, then the durable consumers' worker (the 80% flags are raised after commit)."""
    posted = posting.wallet_deposit(player=player, amount=D(amount), currency=player.currency)
    events.drain()
    return posted


@pytest.mark.parametrize(("country", "currency"), [("GB", "GBP"), ("MT", "EUR")])
def test_a_deposit_limit_flags_at_80_percent_and_refuses_past_100(country, currency):
    player = PlayerFactory(country=country, currency=currency)
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value="100.00")
    deposit(player, "50.00")
    assert not Flag.objects.exists()
    deposit(player, "35.00")
    assert list(Flag.objects.values_list("kind", flat=True)) == ["limit_80"]
    with pytest.raises(posting.PostingRefused) as refused:
        deposit(player, "15.01")
    assert refused.value.code == "limit_reached"
    assert refused.value.fields["limits"][0] | {"used": "85.0000"} == refused.value.fields["limits"][0]
    assert refused.value.fields["limits"][0]["remaining"] == "15.0000"
    deposit(player, "15.00")
    assert set(Flag.objects.values_list("kind", flat=True)) == {"limit_80", "limit_reached"}
    assert can(player, "marketing").reasons[-1] == "limit_reached"  # a limit hit removes them from marketing
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        deposit(player, "20.00")  # a new day


def test_a_decrease_applies_at_once_an_increase_after_cooling_off_and_confirmation(player):
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="week", value="500.00")
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="week", value="200.00")
    assert can(player, "deposit", amount=D("200.01")).reasons == ["limit_reached"]
    start = timezone.now()
    raised = services.limit_set(actor=ACTOR, player=player, kind="deposit", period="week", value="1000.00").change
    assert raised.status == "pending"
    assert timedelta(hours=24) <= raised.effective_at - start < timedelta(hours=24, seconds=5)
    assert raised.confirm_by - raised.effective_at == timedelta(days=7)
    assert can(player, "deposit", amount=D("300.00")).reasons == ["limit_reached"]  # still 200
    with pytest.raises(Exception) as exc:
        services.limit_confirm(actor=ACTOR, player=player, change=raised)
    assert exc.value.code == "cooling_off_pending"
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        services.limit_confirm(actor=ACTOR, player=player, change=raised)
        assert can(player, "deposit", amount=D("300.00")).allowed
    assert OutboxEvent.objects.filter(type="limits.changed").count() == 3


def test_an_unconfirmed_increase_lapses_and_a_german_increase_waits_seven_days():
    german = PlayerFactory(country="DE", currency="EUR")
    services.limit_set(actor=ACTOR, player=german, kind="wager", period="day", value="50.00")
    start = timezone.now()
    raised = services.limit_set(actor=ACTOR, player=german, kind="wager", period="day", value="80.00").change
    with time_machine.travel(start + timedelta(days=6), tick=False), pytest.raises(Exception) as exc:
        services.limit_confirm(actor=ACTOR, player=german, change=raised)
    assert exc.value.code == "cooling_off_pending"
    with time_machine.travel(start + timedelta(days=15), tick=False):
        with pytest.raises(Exception) as exc:
            services.limit_confirm(actor=ACTOR, player=german, change=raised)
        assert exc.value.code == "change_lapsed"
        assert services.limit_changes_lapse() == 1
    assert LimitChange.objects.get(pk=raised.pk).status == "lapsed"
    assert AuditEvent.objects.filter(action="rg.limit_increase_lapsed").count() == 1


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("-5", "limit_invalid"),
        ("abc", "limit_invalid"),
        ("1.001", "limit_invalid"),
        (12, "limit_invalid"),
        ("1e2", "limit_invalid"),
        ("Infinity", "limit_invalid"),
    ],
)
def test_bad_limit_values_are_refused_and_change_nothing(player, value, code):
    with pytest.raises(Exception) as exc:
        services.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value=value)
    assert exc.value.code == code
    with pytest.raises(Exception) as exc:
        services.limit_set(actor=ACTOR, player=player, kind="deposit", period="fortnight", value="10")
    assert exc.value.code == "limit_invalid"
    assert not LimitChange.objects.exists()


def test_jurisdiction_caps_are_limits_germany_and_the_netherlands():
    german = PlayerFactory(country="DE", currency="EUR")
    deposit(german, "990.00")
    with pytest.raises(posting.PostingRefused) as refused:
        deposit(german, "20.00")
    assert refused.value.code == "limit_reached" and refused.value.fields["limits"][0]["source"] == "jurisdiction"
    young_dutch = PlayerFactory(country="NL", currency="EUR", date_of_birth=date(timezone.now().year - 20, 1, 1))
    deposit(young_dutch, "300.00")
    with pytest.raises(posting.PostingRefused):
        deposit(young_dutch, "1.00")
    withdrawal_request(player=young_dutch, amount=D("100.00"), currency="EUR")  # net: frees room under the cap
    deposit(young_dutch, "100.00")


def test_sweden_requires_an_own_deposit_limit_before_play():
    swede = PlayerFactory(country="SE", currency="SEK")
    assert "limit_required" in can(swede, "deposit", amount=D("10")).reasons
    services.limit_set(actor=ACTOR, player=swede, kind="deposit", period="month", value="5000.00")
    assert can(swede, "deposit", amount=D("10")).allowed


def test_a_session_limit_is_a_restriction_for_the_platform(player):
    services.limit_set(actor=ACTOR, player=player, kind="session", period="session", value="45")
    assert can(player, "login").restrictions["session_limit_minutes"] == 45


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deposits_cannot_both_slip_under_a_limit(geo_rules):
    player = PlayerFactory()
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value="100.00")
    barrier, outcomes = threading.Barrier(6), []

    def attempt():
        barrier.wait()
        try:
            deposit(player, "60.00")
            outcomes.append("ok")
        except posting.PostingRefused as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["limit_reached"] * 5 + ["ok"]
    assert LedgerTransaction.objects.filter(type="deposit").count() == 1


@pytest.mark.parametrize(
    ("country", "currency", "utc_hour_of_local_midnight"),
    [("DE", "EUR", 22), ("GB", "GBP", 23)],  # in July: CEST is UTC+2, BST is UTC+1
)
def test_a_daily_limit_resets_at_the_jurisdictions_midnight_not_utcs(country, currency, utc_hour_of_local_midnight):
    player = PlayerFactory(country=country, currency=currency)
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value="100.00")
    midnight = datetime(2027, 7, 10, utc_hour_of_local_midnight, tzinfo=UTC)  # local midnight, 10 to 11 July
    with time_machine.travel(midnight - timedelta(minutes=30), tick=False):
        deposit(player, "90.00")
    with time_machine.travel(midnight - timedelta(minutes=10), tick=False):
        with pytest.raises(posting.PostingRefused) as refused:
            deposit(player, "20.00")  # the same local day
        assert refused.value.code == "limit_reached"
    with time_machine.travel(midnight + timedelta(minutes=10), tick=False):
        deposit(player, "90.00")  # a new local day, though still 10 July in UTC
        overview = services.rules_for(player)
        assert overview is not None and overview.time_zone in ("Europe/Berlin", "Europe/London")
    flags = set(Flag.objects.filter(player=player).values_list("period_key", flat=True))
    assert {key[-10:] for key in flags} == {"2027-07-10", "2027-07-11"}  # one 80% flag per local day


@pytest.mark.parametrize(
    ("period", "now", "zone", "start"),
    [
        ("week", datetime(2027, 3, 7, 23, 30, tzinfo=UTC), "Europe/Berlin", "2027-03-08T00:00:00+01:00"),  # Monday
        ("month", datetime(2027, 3, 31, 22, 30, tzinfo=UTC), "Europe/Berlin", "2027-04-01T00:00:00+02:00"),  # DST
        ("day", datetime(2027, 1, 5, 3, 0, tzinfo=UTC), "America/Toronto", "2027-01-04T00:00:00-05:00"),
        ("day", datetime(2027, 1, 5, 3, 0, tzinfo=UTC), "UTC", "2027-01-05T00:00:00+00:00"),
    ],
)
def test_periods_start_at_local_midnight(period, now, zone, start):
    from apps.responsible.limits import period_start

    assert period_start(period, now, zone).isoformat() == start


def _gb_deposit_cap(cap):
    from apps.geo.models import RulePack
    from apps.geo.services import geo_config_save

    pack = RulePack.objects.filter(jurisdiction__code="GB").order_by("-effective_from").first()
    pack.pk = None
    pack.effective_from = timezone.now()
    pack.deposit_caps = [cap]
    geo_config_save(actor=None, obj=pack, created=True, changed=["deposit_caps"])


def test_a_deposit_cap_in_another_currency_refuses_rather_than_skips():
    _gb_deposit_cap({"period": "month", "amount": "100.00", "currency": "EUR"})
    briton = PlayerFactory(country="GB", currency="GBP")
    with pytest.raises(posting.PostingRefused) as refused:
        deposit(briton, "1.00")
    assert refused.value.code == "limit_currency_unsupported"
    result = can(briton, "deposit", amount=D("1.00"))
    assert result.restrictions["limits_unmeasurable"][0]["currency"] == "EUR"
    assert not LedgerTransaction.objects.filter(player=briton).exists()


def test_a_deposit_cap_in_the_players_currency_still_counts():
    _gb_deposit_cap({"period": "month", "amount": "100.00", "currency": "GBP"})
    briton = PlayerFactory(country="GB", currency="GBP")
    deposit(briton, "100.00")
    with pytest.raises(posting.PostingRefused) as refused:
        deposit(briton, "0.01")
    assert refused.value.code == "limit_reached"


def test_the_limit_flags_consumer_measures_a_period_once_however_many_events_it_is_handed():
    from django.test.utils import CaptureQueriesContext

    player = PlayerFactory()
    services.limit_set(actor=ACTOR, player=player, kind="deposit", period="day", value="100.00")
    for _ in range(30):
        posting.wallet_deposit(player=player, amount=D("3.00"), currency=player.currency)
    with CaptureQueriesContext(connection) as queries:
        assert events.drain("responsible.limit_flags").processed == 30
    usage_reads = [q for q in queries.captured_queries if "wallet_player_day" in q["sql"]]
    assert len(usage_reads) == 1  # one period, one read: not one per event
    assert set(Flag.objects.filter(player=player).values_list("kind", flat=True)) == {"limit_80"}  # 90 of 100
