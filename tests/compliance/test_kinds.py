"""Rule kinds: typed parameters, and each kind's hit and no hit at its boundaries (just under, at, just over),
driven by real postings through the wallet and the rules' consumer (shadow versions: the hits are what counts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.bonuses.models import BonusFlag
from apps.compliance import evaluation, kinds
from apps.compliance.choices import RuleKind, VersionMode
from apps.compliance.errors import RuleKindUnknown, RuleParamsInvalid
from apps.compliance.seeds import SEEDS
from tests.compliance.conftest import alerts, bet, deposit, drain, eur, gbp, hits, login, publish, withdraw
from tests.factories import PlayerFactory

pytestmark = pytest.mark.usefixtures("no_seed_rules")
D = Decimal
# A Monday in November: London is on UTC, so local days and UTC days agree.
T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SHADOW = VersionMode.SHADOW


def make_player(**kwargs):
    return PlayerFactory(kyc_level=3, **kwargs)  # level 3: withdrawals of any size are allowed


# --- parameters -----------------------------------------------------------------------------------------------


def test_it_returns_the_canonical_form_of_valid_parameters():
    params = kinds.validate(
        "structuring",
        {"threshold": {"amount": 2000, "currency": "eur"}, "percent": "15", "count": 3, "window": "7d"},
    )
    assert params == {
        "threshold": {"amount": "2000.00", "currency": "EUR"},
        "percent": "15",
        "count": 3,
        "window": "7d",
    }
    assert kinds.parse("structuring", params)["threshold"] == kinds.Money(D("2000.00"), "EUR")
    assert kinds.parse("structuring", params)["window"] == kinds.Window(7, "d")


def test_it_fills_in_defaults():
    assert kinds.validate("many_instruments", {"count": 3}) == {"count": 3, "window": "7d"}
    assert kinds.validate("country_mismatch", {}) == {
        "residence_mismatch": True,
        "high_risk_countries": [],
        "window": "1d",
    }


def test_it_refuses_unknown_missing_and_mistyped_parameters_field_by_field():
    with pytest.raises(RuleParamsInvalid) as refused:
        kinds.validate(
            "structuring",
            {"threshold": {"amount": 2000.5, "currency": "EUR"}, "percent": "75", "count": 1.5, "colour": "red"},
        )
    assert refused.value.code == "rule_params_invalid"
    assert set(refused.value.fields) == {"threshold", "percent", "count", "window", "colour"}
    assert refused.value.fields["colour"] == ["Unknown parameter."]
    assert refused.value.fields["window"] == ["Required."]
    assert refused.value.fields["percent"] == ["At most 50."]
    assert refused.value.fields["count"] == ["A whole number."]
    assert "decimal string" in refused.value.fields["threshold"][0]


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("amount_window", {"amount": gbp("10"), "window": "24x"}, "window"),
        ("amount_window", {"amount": gbp("10"), "window": "0h"}, "window"),
        ("amount_window", {"amount": gbp("10"), "window": "745h"}, "window"),
        ("amount_window", {"amount": {"amount": "-1", "currency": "GBP"}, "window": "1d"}, "amount"),
        ("amount_window", {"amount": {"amount": "1", "currency": "POUND"}, "window": "1d"}, "amount"),
        ("amount_window", {"amount": "1000", "window": "1d"}, "amount"),
        ("little_play", {"k": "1", "window": "24h"}, "window"),  # days only: it reads the rollups
        ("little_play", {"k": "0", "window": "30d"}, "k"),
        ("count_window", {"count": 0, "window": "1d"}, "count"),
        ("count_window", {"count": True, "window": "1d"}, "count"),
        ("country_mismatch", {"high_risk_countries": ["Iran"]}, "high_risk_countries"),
        ("country_mismatch", {"residence_mismatch": "yes"}, "residence_mismatch"),
        ("shared_identifier", {"identifiers": ["email"], "min_other_players": 1}, "identifiers"),
        ("shared_identifier", {"min_other_players": 21}, "min_other_players"),
        ("rapid_in_out", {"hours": 24, "share": "1.5"}, "share"),
        ("spike", {"k": "abc"}, "k"),
    ],
)
def test_it_refuses_a_value_out_of_its_type_or_range(kind, params, field):
    with pytest.raises(RuleParamsInvalid) as refused:
        kinds.validate(kind, params)
    assert field in refused.value.fields


def test_it_refuses_parameters_that_are_not_an_object():
    with pytest.raises(RuleParamsInvalid):
        kinds.validate("amount_window", ["2000"])


def test_an_unknown_kind_is_refused():
    with pytest.raises(RuleKindUnknown) as refused:
        kinds.validate("horoscope", {})
    assert refused.value.code == "rule_kind_unknown"


def test_every_rule_kind_is_registered_and_only_deposits_and_withdrawals_are_queued():
    assert set(kinds.KINDS) == set(RuleKind.values)
    assert kinds.posting_types() == {"deposit", "withdrawal"}  # never a bet
    assert all(kind.available for kind in kinds.KINDS.values())
    assert {code for code, kind in kinds.KINDS.items() if kind.sweep} == {
        "country_mismatch",
        "shared_identifier",
        "bonus_abuse",
    }


def test_the_seed_parameters_are_in_canonical_form():
    for seed in SEEDS:
        assert kinds.validate(seed.kind, seed.params) == seed.params, seed.code
    assert "bonus_abuse" not in {seed.kind for seed in SEEDS}


# --- amount over a window -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("second", "hit"), [("399.99", False), ("400.00", True), ("400.01", True)])
def test_amount_window_hits_from_the_threshold(db, at, second, hit):
    version = publish("amount_window", {"amount": gbp("1000.00"), "window": "24h"}, mode=SHADOW)
    at(T0)
    player = make_player()
    first = deposit(player, "600.00")
    at(T0 + timedelta(hours=23, minutes=59))
    last = deposit(player, second)
    drain()
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        evidence = found[0].evidence
        assert evidence["deposits"] == f"{D('600.00') + D(second)} GBP"
        assert evidence["threshold"] == "1000.00 GBP"
        assert [t["id"] for t in evidence["transactions"]] == [first, last]
        assert evidence["window"] == "24h"
        assert found[0].window_key == "24h@2026-11-03T00:00Z"  # the UTC day of the triggering deposit
        assert found[0].transaction_id == last and found[0].shadow


def test_amount_window_in_hours_forgets_what_is_older_than_the_window(db, at):
    version = publish("amount_window", {"amount": gbp("1000.00"), "window": "24h"}, mode=SHADOW)
    at(T0)
    player = make_player()
    deposit(player, "600.00")
    at(T0 + timedelta(hours=24))  # exactly 24 h later: the first deposit is out (the window is (end - 24 h, end])
    deposit(player, "400.00")
    drain()
    assert hits(version, player) == []


def test_amount_window_in_days_reads_the_local_days(db, at):
    version = publish("amount_window", {"amount": gbp("1000.00"), "window": "30d"}, mode=SHADOW)
    at(T0)
    in_window, out_of_window = make_player(), make_player()
    deposit(in_window, "600.00")
    deposit(out_of_window, "600.00")
    at(T0 + timedelta(days=29, hours=13))  # 1 December, 23:00: the 30th local day from 2 November
    deposit(in_window, "400.00")
    at(T0 + timedelta(days=30, hours=-9))  # 2 December, 01:00: the 31st
    deposit(out_of_window, "400.00")
    drain()
    assert len(hits(version, in_window)) == 1 and hits(version, out_of_window) == []
    evidence = hits(version, in_window)[0].evidence
    assert (evidence["first_day"], evidence["last_day"], evidence["time_zone"]) == (
        "2026-11-02",
        "2026-12-01",
        "Europe/London",
    )
    assert hits(version, in_window)[0].window_key == "30d@2026-11-30"  # the 30-day slice holding 1 December


@pytest.mark.parametrize(("amount", "hit"), [("849.99", False), ("850.00", True)])
def test_amount_window_converts_a_threshold_in_another_currency(db, at, amount, hit):
    version = publish("amount_window", {"amount": eur("1000.00"), "window": "24h"}, mode=SHADOW)  # GBP 850
    at(T0)
    player = make_player()
    deposit(player, amount)
    drain()
    assert len(hits(version, player)) == int(hit)
    if hit:
        assert hits(version, player)[0].evidence["threshold"] == "1000.00 EUR"
        assert hits(version, player)[0].evidence["threshold_in_currency"] == "850.00 GBP"


def test_a_currency_without_a_rate_never_hits_a_converted_threshold(db, at, settings):
    settings.CURRENCY_RATES_PER_EUR = {"EUR": D("1")}  # GBP has no rate now
    version = publish("amount_window", {"amount": eur("1.00"), "window": "24h"}, mode=SHADOW)
    at(T0)
    player = make_player()
    deposit(player, "5000.00")
    drain()
    assert hits(version, player) == []


# --- count over a window --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("third", "hit"), [("99.99", False), ("100.00", True), ("100.01", True)])
def test_count_window_counts_deposits_of_at_least_the_minimum(db, at, third, hit):
    version = publish("count_window", {"count": 3, "window": "24h", "min_amount": gbp("100.00")}, mode=SHADOW)
    at(T0)
    player = make_player()
    deposit(player, "100.00")
    deposit(player, "500.00")
    at(T0 + timedelta(hours=20))
    deposit(player, third)
    drain()
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        assert found[0].evidence["deposit_count"] == 3 and found[0].evidence["min_amount"] == "100.00 GBP"


@pytest.mark.parametrize(("deposits", "hit"), [(2, False), (3, True), (4, True)])
def test_count_window_over_days_reads_the_rollup_counts(db, at, deposits, hit):
    version = publish("count_window", {"count": 3, "window": "7d"}, mode=SHADOW)
    player = make_player()
    for day in range(deposits):
        at(T0 + timedelta(days=2 * day))  # 2, 4, 6, 8 November: the 4th is still within 7 days of the 2nd
        deposit(player, "10.00")
    drain()
    assert len(hits(version, player)) == max(0, deposits - 2)
    if hit:
        assert hits(version, player)[0].evidence["deposit_count"] == 3


# --- structuring ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("third", "hit"), [("899.99", False), ("900.00", True), ("999.99", True), ("1000.00", False)])
def test_structuring_counts_deposits_in_the_band_under_the_threshold(db, at, third, hit):
    version = publish(
        "structuring", {"threshold": gbp("1000.00"), "percent": "10", "count": 3, "window": "7d"}, mode=SHADOW
    )
    player = make_player()
    at(T0)
    deposit(player, "950.00")
    at(T0 + timedelta(days=3))
    deposit(player, "990.00")
    at(T0 + timedelta(days=6))
    last = deposit(player, third)
    drain()
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        assert found[0].evidence["band"] == "900.00 GBP to under 1000.00 GBP"
        assert found[0].evidence["deposit_count"] == 3
        assert found[0].evidence["transactions"][-1]["id"] == last


def test_structuring_needs_the_deposits_within_the_window(db, at):
    version = publish(
        "structuring", {"threshold": gbp("1000.00"), "percent": "10", "count": 3, "window": "7d"}, mode=SHADOW
    )
    player = make_player()
    for day in (0, 3, 7):  # 2, 5 and 9 November: 8 local days
        at(T0 + timedelta(days=day))
        deposit(player, "950.00")
    drain()
    assert hits(version, player) == []


# --- deposit, little play, withdrawal -------------------------------------------------------------------------


@pytest.mark.parametrize(("wagered", "hit"), [("99.99", True), ("100.00", False), ("100.01", False)])
def test_little_play_hits_when_wagering_is_under_k_times_the_deposits(db, at, wagered, hit):
    version = publish("little_play", {"k": "0.5", "window": "30d", "min_deposits": gbp("50.00")}, mode=SHADOW)
    player = make_player()
    at(T0)
    deposit(player, "200.00")
    bet(player, wagered)
    at(T0 + timedelta(hours=2))
    withdrawal = withdraw(player, "10.00")
    drain()
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        evidence = found[0].evidence
        assert (evidence["deposits"], evidence["wagered"], evidence["wagering_expected"]) == (
            "200.00 GBP",
            f"{wagered} GBP",
            "100.00 GBP",
        )
        assert found[0].window_key == f"withdrawal:{found[0].transaction_id}"
        assert found[0].evidence["withdrawal"] == "10.00 GBP" and withdrawal.amount == D("10.00")


@pytest.mark.parametrize(("deposited", "hit"), [("49.99", False), ("50.00", True)])
def test_little_play_ignores_deposits_under_the_minimum(db, at, deposited, hit):
    version = publish("little_play", {"k": "1", "window": "30d", "min_deposits": gbp("50.00")}, mode=SHADOW)
    player = make_player()
    at(T0)
    deposit(player, deposited)
    withdraw(player, "10.00")
    drain()
    assert len(hits(version, player)) == int(hit)


def test_little_play_is_evaluated_on_withdrawals_only(db, at):
    version = publish("little_play", {"k": "1", "window": "30d"}, mode=SHADOW)
    player = make_player()
    at(T0)
    deposit(player, "100.00")
    drain()
    assert hits(version, player) == []


# --- many instruments -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("instruments", "hit"), [("aba", False), ("abc", True), ("abcd", True)])
def test_many_instruments_counts_distinct_instruments(db, at, instruments, hit):
    version = publish("many_instruments", {"count": 3, "window": "7d"}, mode=SHADOW)
    player = make_player()
    for i, letter in enumerate(instruments):
        at(T0 + timedelta(days=2 * i))
        deposit(player, "20.00", instrument=letter * 64)
    drain()
    found = hits(version, player)
    assert bool(found) == hit
    if hit:
        assert found[0].evidence["instrument_count"] == 3
        assert found[0].evidence["instruments"] == ["a" * 12, "b" * 12, "c" * 12]


def test_many_instruments_forgets_instruments_older_than_the_window(db, at):
    version = publish("many_instruments", {"count": 3, "window": "7d"}, mode=SHADOW)
    player = make_player()
    for day, letter in ((0, "a"), (7, "b"), (8, "c")):  # a is 8 local days before c
        at(T0 + timedelta(days=day))
        deposit(player, "20.00", instrument=letter * 64)
    drain()
    assert hits(version, player) == []


# --- spike ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "hit"), [("99.99", False), ("100.00", True), ("100.01", True)])
def test_spike_hits_from_k_times_the_average(db, at, amount, hit):
    version = publish("spike", {"k": "10", "history": "30d", "min_history": 3}, mode=SHADOW)
    player = make_player()
    for day in range(3):
        at(T0 + timedelta(days=day))
        deposit(player, ("5.00", "10.00", "15.00")[day])  # average 10.00
    at(T0 + timedelta(days=10))
    last = deposit(player, amount)
    drain()
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        assert found[0].evidence["average_deposit"] == "10.00 GBP"
        assert found[0].evidence["history_deposit_count"] == 3
        assert found[0].window_key == f"deposit:{last}"


def test_spike_needs_the_minimum_history(db, at):
    version = publish("spike", {"k": "10", "min_history": 3}, mode=SHADOW)
    player = make_player()
    at(T0)
    deposit(player, "10.00")
    deposit(player, "10.00")
    deposit(player, "1000.00")  # two earlier deposits only
    drain()
    assert hits(version, player) == []


# --- rapid in and out -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "hit"), [("79.99", False), ("80.00", True), ("80.01", True)])
def test_rapid_in_out_hits_a_withdrawal_of_the_share_of_a_recent_deposit(db, at, amount, hit):
    version = publish("rapid_in_out", {"hours": 24, "share": "0.8"}, mode=SHADOW)
    player = make_player()
    at(T0)
    first = deposit(player, "100.00")
    at(T0 + timedelta(hours=3))
    withdraw(player, amount)
    drain()
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        assert found[0].evidence["transactions"][0]["id"] == first
        assert found[0].evidence["minutes_between"] == 180


@pytest.mark.parametrize(("hours", "hit"), [(timedelta(hours=23, minutes=59), True), (timedelta(hours=24), False)])
def test_rapid_in_out_looks_back_the_hours_only(db, at, hours, hit):
    version = publish("rapid_in_out", {"hours": 24, "share": "0.8"}, mode=SHADOW)
    player = make_player()
    at(T0)
    deposit(player, "100.00")
    at(T0 + hours)
    withdraw(player, "90.00")
    drain()
    assert len(hits(version, player)) == int(hit)


# --- country mismatch (the sweep) ----------------------------------------------------------------------------


def test_country_mismatch_hits_a_login_from_another_country(db, at):
    version = publish("country_mismatch", {"residence_mismatch": True}, mode=SHADOW)
    at(T0)
    home, abroad = make_player(), make_player()
    login(home, country="GB")
    login(abroad, country="GB")
    login(abroad, country="FR", ip="2.2.2.2")
    login(abroad, country="FR", ip="2.2.2.3")
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    assert hits(version, home) == []
    found = hits(version, abroad)
    assert len(found) == 1
    assert found[0].window_key == "ip:FR@2026-11"
    assert found[0].evidence["reasons"] == ["ip_country_differs"]
    assert found[0].evidence["login_count"] == 2 and found[0].evidence["residence"] == "GB"


def test_country_mismatch_hits_a_high_risk_country_even_without_mismatch_checks(db, at):
    version = publish(
        "country_mismatch", {"residence_mismatch": False, "high_risk_countries": ["ir", "KP"]}, mode=SHADOW
    )
    at(T0)
    player, traveller = make_player(), make_player()
    login(player, country="IR")
    login(traveller, country="FR")
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    assert [h.evidence["reasons"] for h in hits(version, player)] == [["ip_country_high_risk"]]
    assert hits(version, traveller) == []


def test_country_mismatch_hits_a_high_risk_residence(db, at):
    version = publish("country_mismatch", {"residence_mismatch": False, "high_risk_countries": ["GB"]}, mode=SHADOW)
    at(T0)
    player = make_player()
    login(player, country="")
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    assert [h.window_key for h in hits(version, player)] == ["residence:GB@2026-11"]


def test_country_mismatch_looks_at_the_window_only(db, at):
    version = publish("country_mismatch", {"window": "1d"}, mode=SHADOW)
    at(T0)
    player = make_player()
    login(player, country="FR", at=T0 - timedelta(days=2))  # a day before yesterday: outside "1d"
    login(player, country="GB")
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    assert hits(version, player) == []


# --- shared identifiers (the sweep) ---------------------------------------------------------------------------


@pytest.mark.parametrize(("others", "hit"), [(1, False), (2, True), (3, True)])
def test_shared_device_hits_from_the_number_of_other_players(db, at, others, hit):
    version = publish("shared_identifier", {"identifiers": ["device"], "min_other_players": 2}, mode=SHADOW)
    at(T0)
    player = make_player()
    login(player, device="device-1")
    for _ in range(others):
        login(make_player(), device="device-1", at=T0 - timedelta(days=3))
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        assert found[0].evidence["identifier"] == "device" and found[0].evidence["other_player_count"] == others
        assert found[0].window_key == f"device:{kinds.digest('device-1')}"


def test_shared_ip_and_instrument_hit_each_on_its_own(db, at):
    version = publish("shared_identifier", {"identifiers": ["ip", "instrument"], "min_other_players": 1}, mode=SHADOW)
    at(T0 - timedelta(days=100))
    other = make_player()
    deposit(other, "10.00", instrument="c" * 64)  # long ago: a card counts whenever it was used
    at(T0)
    player = make_player()
    login(player, ip="10.0.0.7")
    login(make_player(), ip="10.0.0.7")
    deposit(player, "10.00", instrument="c" * 64)
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    found = {h.evidence["identifier"]: h for h in hits(version, player)}
    assert set(found) == {"ip", "instrument"}
    assert found["ip"].evidence["value"] == "10.0.0.7"
    assert found["instrument"].evidence["other_players"] == [other.pk]


def test_shared_login_identifiers_count_other_players_in_the_window_only(db, at):
    version = publish("shared_identifier", {"identifiers": ["device"], "min_other_players": 1}, mode=SHADOW)
    at(T0)
    player = make_player()
    login(player, device="device-9")
    login(make_player(), device="device-9", at=T0 - timedelta(days=31))
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    assert hits(version, player) == []


# --- bonus abuse (the sweep) ---------------------------------------------------------------------------------


def flag(player, kind: str = "shared_device", *, at: datetime = T0, others: tuple[int, ...] = ()) -> BonusFlag:
    """A flag as the bonus engine records it (apps/bonuses/flags.py), written directly: the kind reads the rows."""
    return BonusFlag.objects.create(player=player, kind=kind, others=list(others), evidence={}, created_at=at)


def test_bonus_abuse_parameters_name_the_engines_flags():
    assert kinds.validate("bonus_abuse", {}) == {"flags": [], "count": 1, "window": "30d"}
    assert kinds.validate("bonus_abuse", {"flags": ["one_game", "shared_ip"], "count": 2, "window": "7d"}) == {
        "flags": ["one_game", "shared_ip"],
        "count": 2,
        "window": "7d",
    }
    with pytest.raises(RuleParamsInvalid) as refused:
        kinds.validate("bonus_abuse", {"flags": ["multi_account"], "count": 0})
    assert set(refused.value.fields) == {"flags", "count"}
    assert refused.value.fields["flags"][0].startswith("Only shared_device, shared_ip")


@pytest.mark.parametrize(("flags", "hit"), [(1, False), (2, True), (3, True)])
def test_bonus_abuse_hits_from_the_number_of_flags(db, at, flags, hit):
    version = publish("bonus_abuse", {"count": 2, "window": "30d"}, mode=SHADOW)
    at(T0)
    player, other = make_player(), make_player()
    raised = [
        flag(player, kind, at=T0 - timedelta(days=i), others=(other.pk,))
        for i, kind in enumerate(("shared_device", "claim_velocity", "one_game")[:flags])
    ]
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    found = hits(version, player)
    assert len(found) == int(hit)
    if hit:
        evidence = found[0].evidence
        assert found[0].window_key == f"bonus_flag:{raised[0].pk}"  # the newest flag counted
        assert (evidence["flag_count"], evidence["count_threshold"], evidence["flag_kinds"]) == (flags, 2, "all kinds")
        assert [f["id"] for f in evidence["flags"]] == [f.pk for f in raised]
        assert evidence["flags"][0]["what"] == "A device shared with another recipient"
        assert evidence["other_players"] == [other.pk]


def test_bonus_abuse_counts_the_kinds_asked_for_only(db, at):
    version = publish("bonus_abuse", {"flags": ["one_game", "quick_withdrawal"], "count": 2}, mode=SHADOW)
    at(T0)
    player, control = make_player(), make_player()
    flag(player, "one_game")
    flag(player, "shared_ip")  # not asked for
    flag(control, "one_game")
    flag(control, "quick_withdrawal")
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    assert hits(version, player) == []
    assert [h.evidence["flag_kinds"] for h in hits(version, control)] == [
        ["Wagering cleared on one high-return game", "A withdrawal at once after wagering cleared"]
    ]


def test_bonus_abuse_looks_at_the_window_only(db, at):
    version = publish("bonus_abuse", {"count": 2, "window": "7d"}, mode=SHADOW)
    at(T0)
    inside, outside = make_player(), make_player()
    flag(inside, at=T0)
    flag(inside, "claim_velocity", at=T0 - timedelta(days=6, hours=10))  # 27 October, the 7th local day
    flag(outside, at=T0)
    flag(outside, "claim_velocity", at=T0 - timedelta(days=7))  # 26 October: the 8th
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    assert len(hits(version, inside)) == 1 and hits(version, outside) == []


def test_bonus_abuse_raises_one_alert_per_new_flag(db, at):
    version = publish("bonus_abuse", {"count": 1})
    at(T0)
    player = make_player()
    first = flag(player)
    evaluation.sweep(now=T0, since=T0 - timedelta(minutes=10))
    at(T0 + timedelta(minutes=5))
    login(player)  # the next sweep looks at the player again and finds nothing new
    evaluation.sweep(now=T0 + timedelta(minutes=10), since=T0)
    assert [(a.window_key, a.hit_count) for a in alerts(version, player)] == [(f"bonus_flag:{first.pk}", 2)]
    second = flag(player, "one_game", at=T0 + timedelta(minutes=15))
    evaluation.sweep(now=T0 + timedelta(minutes=20), since=T0 + timedelta(minutes=10))
    assert [a.window_key for a in alerts(version, player)] == [f"bonus_flag:{first.pk}", f"bonus_flag:{second.pk}"]
