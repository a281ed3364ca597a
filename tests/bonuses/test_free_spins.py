"""Free-spin results posted by the platform as wins carrying the bonus id: credited wholly to the bonus account (no
cash stake), the bonus's amount and requirement grown, its spins used up, idempotent; every refusal with its code
and nothing changed; the last spin (nothing won: completed at once with nothing to convert; winnings: wagered with
normal bets, then converted); a rollback giving the spins back; a win without a bonus id unchanged."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.bonuses import awards
from apps.bonuses.choices import BonusState, EndReason, Source
from apps.bonuses.models import FreeSpinResult, PlayerBonus
from apps.players.models import Player
from apps.wallet import free_spins, posting
from apps.wallet.models import Entry, LedgerTransaction, PlayerDay
from tests.bonuses.conftest import balances, bet, deposit, gb_match, gb_player, published
from tests.refusals import app_tables, snapshot

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/v1/wallet/transactions/"
TABLES = app_tables("wallet", "bonuses")


def spins_terms(**over: Any) -> dict[str, Any]:
    """10 free spins of GBP 0.10 on two slots, their winnings wagered 10x (UK-compliant: max bet GBP 2)."""
    return gb_match(
        type="free_spins",
        percent=None,
        amount=None,
        min_deposit=None,
        spins_count=over.pop("spins_count", 10),
        spin_stake="0.10",
        games=["starburst", "book-of-dead"],
        budget="1000.00",
        **over,
    )


def spins_bonus(crm, player: Player, **over: Any) -> PlayerBonus:
    template = published(crm, spins_terms(**over))
    return awards.bonus_award(actor=None, player=player, template=template, source=Source.CAMPAIGN)


def fresh(bonus: PlayerBonus) -> PlayerBonus:
    return PlayerBonus.objects.get(pk=bonus.pk)


def result(api, player: Player, bonus_id: Any, amount: str = "1.20", *, key: str = "", **over: Any):
    body = {
        "type": "win",
        "player": player.external_id,
        "amount": amount,
        "currency": "GBP",
        "round_id": over.pop("round_id", f"fs-{uuid.uuid4().hex[:8]}"),
        "reference": over.pop("reference", f"fsw-{uuid.uuid4().hex[:8]}"),
        "game_id": "starburst",
        "bonus_id": bonus_id,
        **over,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def test_it_credits_a_result_wholly_to_the_bonus_grows_the_requirement_and_uses_the_spins(platform_client, crm):
    player = gb_player()
    deposit(player, "20.00")
    bonus = spins_bonus(crm, player)
    assert (bonus.state, bonus.amount, bonus.wagering_required, bonus.spins_left) == ("active", D("0"), D("0"), 10)
    api = platform_client.api()

    r = result(api, player, bonus.pk, "1.20", round_id="FS-1", reference="fs-1", game_category="slots")

    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["balances"] == {
        "currency": "GBP",
        "cash": "20.00",
        "bonus": "1.20",
        "pending_withdrawal": "0.00",
        "playable": "21.20",
    }
    assert body["transaction"]["type"] == "win" and body["transaction"]["amount"] == "1.20"
    assert body["bonus"] == {
        "id": bonus.pk,
        "state": "active",
        "spins_left": 9,
        "amount": "1.20",
        "currency": "GBP",
        "wagering_required": "12.0000",
        "wagered": "0.0000",
    }
    bonus = fresh(bonus)
    assert (bonus.amount, bonus.wagering_required, bonus.spins_left) == (D("1.20"), D("12.0000"), 9)
    assert balances(player) == {"cash": D("20.0000"), "bonus": D("1.2000")}
    txn = LedgerTransaction.objects.get(pk=body["transaction"]["id"])
    legs = sorted((e.account.kind, e.amount) for e in Entry.objects.filter(transaction=txn).select_related("account"))
    assert legs == [("bonus", D("1.2000")), ("house", D("-1.2000"))]  # no cash leg: the spins cost nothing
    assert (txn.round_id, txn.game_id, txn.reference) == ("FS-1", "starburst", "fs-1")
    spin = FreeSpinResult.objects.get(bonus=bonus)
    assert (spin.transaction_id, spin.spins, spin.amount, spin.round_id) == (txn.pk, 1, D("1.20"), "FS-1")
    day = PlayerDay.objects.get(player=player)
    assert (day.wins, day.bonus_wins, day.win_count, day.stakes) == (D("1.2000"), D("1.2000"), 1, D("0"))

    r = result(api, player, bonus.pk, "0.80", spins=3)  # one result may cover several spins
    assert r.status_code == 201 and r.json()["bonus"]["spins_left"] == 6
    bonus = fresh(bonus)
    assert (bonus.amount, bonus.wagering_required, bonus.spins_left) == (D("2.00"), D("20.0000"), 6)
    assert not AuditEvent.objects.filter(action="bonuses.spins_played").exists()  # not the last spin yet


def test_the_requirement_follows_the_templates_multiplier_and_a_deposit_counted_at_the_award(platform_client, crm):
    player = gb_player()
    deposit(player, "20.00")
    template = published(crm, spins_terms(wagering_multiplier="5", wagering_base="bonus_deposit"))
    bonus = awards.bonus_award(
        actor=None, player=player, template=template, source=Source.CAMPAIGN, deposit_amount=D("20.00")
    )
    assert bonus.wagering_required == D("100.0000")  # the deposit's part, once, at the award
    r = result(platform_client.api(), player, bonus.pk, "3.33")
    assert r.status_code == 201, r.json()
    assert fresh(bonus).wagering_required == D("116.6500")  # + 3.33 x 5


def test_a_replayed_key_answers_the_first_result_and_a_reused_reference_changes_nothing(platform_client, crm):
    player = gb_player()
    bonus = spins_bonus(crm, player)
    api = platform_client.api()
    first = result(api, player, bonus.pk, "1.20", key="fs-key-1", round_id="FS-1", reference="fs-1")
    assert first.status_code == 201
    again = result(api, player, bonus.pk, "1.20", key="fs-key-1", round_id="FS-1", reference="fs-1")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    before = snapshot(TABLES)
    reused = result(api, player, bonus.pk, "1.20", key="fs-key-2", round_id="FS-1", reference="fs-1")
    assert reused.status_code == 409 and reused.json()["code"] == "duplicate_reference"
    after = snapshot(TABLES)
    after.pop("wallet.IdempotencyRecord"), before.pop("wallet.IdempotencyRecord")  # the refusal is stored
    assert after == before
    bonus = fresh(bonus)
    assert (bonus.amount, bonus.wagering_required, bonus.spins_left) == (D("1.20"), D("12.0000"), 9)
    assert LedgerTransaction.objects.filter(player=player, type="win").count() == 1
    assert FreeSpinResult.objects.filter(bonus=bonus).count() == 1


def refused(api, player: Player, bonus_id: Any, code: str, status: int, **over: Any) -> dict[str, Any]:
    """The result is refused with ``code`` and the ledger and the bonuses are as they were (the idempotency
    record of the refusal aside). The player's accounts exist first (a posting opens them on first use)."""
    balances(player)
    before = snapshot(TABLES)
    r = result(api, player, bonus_id, over.pop("amount", "1.20"), **over)
    body = r.json()
    assert (r.status_code, body.get("code")) == (status, code), body
    after = snapshot(TABLES)
    after.pop("wallet.IdempotencyRecord"), before.pop("wallet.IdempotencyRecord")
    assert after == before
    return body


def test_an_unknown_bonus_and_another_players_bonus_are_the_same_404(platform_client, crm):
    player, other = gb_player(), gb_player()
    theirs = spins_bonus(crm, other)
    api = platform_client.api()
    unknown = refused(api, player, 10**9, "bonus_not_found", 404)
    not_mine = refused(api, player, theirs.pk, "bonus_not_found", 404)
    assert {k: v for k, v in unknown.items() if k != "request_id"} == {
        k: v for k, v in not_mine.items() if k != "request_id"
    }
    assert fresh(theirs).spins_left == 10


def test_a_bonus_of_another_type_is_refused(platform_client, crm):
    player = gb_player()
    cash = published(crm, gb_match(type="cash", percent=None, min_deposit=None, amount="5.00", budget="100.00"))
    bonus = awards.bonus_award(actor=None, player=player, template=cash, source=Source.CAMPAIGN)
    body = refused(platform_client.api(), player, bonus.pk, "bonus_not_free_spins", 409)
    assert body["fields"] == {"bonus_id": ["Not a free-spins bonus."]}


def test_a_bonus_that_is_not_active_is_refused_offered_cancelled_or_past_its_time(platform_client, crm):
    api = platform_client.api()
    player = gb_player()
    template = published(crm, spins_terms())
    offer = awards.bonus_offer(actor=None, player=player, template=template, source=Source.CAMPAIGN)
    assert refused(api, player, offer.pk, "bonus_not_active", 409)["fields"]["state"] == "offered"

    cancelled = spins_bonus(crm, gb_player())
    awards.bonus_cancel(actor=crm, bonus=cancelled, reason="At the player's request")
    cancelled = fresh(cancelled)
    assert refused(api, cancelled.player, cancelled.pk, "bonus_not_active", 409)["fields"]["state"] == "cancelled"

    late = spins_bonus(crm, gb_player())  # past its time to wager: the beat job has not expired it yet
    PlayerBonus.objects.filter(pk=late.pk).update(wager_by=timezone.now() - timedelta(minutes=1))
    assert refused(api, late.player, late.pk, "bonus_not_active", 409)["fields"]["state"] == "expired"

    awards.bonuses_process_due()
    late = fresh(late)
    assert late.state == BonusState.EXPIRED
    assert refused(api, late.player, late.pk, "bonus_not_active", 409)["fields"]["state"] == "expired"


def test_more_spins_than_are_left_and_none_left_are_refused(platform_client, crm):
    player = gb_player()
    bonus = spins_bonus(crm, player, spins_count=3, wagering_multiplier="10")
    api = platform_client.api()
    body = refused(api, player, bonus.pk, "bonus_spins_exhausted", 409, spins=4)
    assert body["fields"] == {"spins": ["3 left."], "spins_left": 3}
    assert result(api, player, bonus.pk, "2.00", spins=3).status_code == 201  # the last spins: GBP 20 to wager
    assert fresh(bonus).spins_left == 0 and fresh(bonus).state == BonusState.ACTIVE
    body = refused(api, player, bonus.pk, "bonus_spins_exhausted", 409)
    assert body["message"] == "The bonus has no spins left."


def test_a_currency_other_than_the_players_or_the_bonuss_is_refused(platform_client, crm):
    player = gb_player()
    bonus = spins_bonus(crm, player)
    api = platform_client.api()
    refused(api, player, bonus.pk, "currency_mismatch", 400, currency="EUR")  # the wallet's own check
    # the player's wallet moved to EUR after the award: the bonus is still in GBP
    Player.objects.filter(pk=player.pk).update(currency="EUR")
    player.refresh_from_db()
    body = refused(api, player, bonus.pk, "currency_mismatch", 400, currency="EUR")
    assert body["fields"] == {"currency": ["Must be GBP."]}


def test_a_game_the_spins_are_not_for_is_refused(platform_client, crm):
    player = gb_player()
    bonus = spins_bonus(crm, player)
    body = refused(platform_client.api(), player, bonus.pk, "bonus_game_not_included", 409, game_id="roulette")
    assert body["fields"] == {"game_id": ["One of: starburst, book-of-dead."]}
    assert result(platform_client.api(), player, bonus.pk, game_id="book-of-dead").status_code == 201


def test_without_the_bonus_engines_hook_a_bonus_win_is_refused_never_posted_as_cash(platform_client, crm):
    player = gb_player()
    bonus = spins_bonus(crm, player)
    free_spins.unregister_free_spin_hook()
    try:
        refused(platform_client.api(), player, bonus.pk, "free_spins_unavailable", 409)
    finally:
        from apps.bonuses.free_spins import register

        register()
    assert free_spins.has_free_spin_hook()
    assert balances(player) == {"cash": D("0.0000"), "bonus": D("0.0000")}


def test_the_body_names_a_bonus_only_on_a_win_with_its_game(platform_client, crm):
    player = gb_player()
    deposit(player, "10.00")
    bonus = spins_bonus(crm, player)
    api = platform_client.api()
    on_a_bet = refused(api, player, bonus.pk, "invalid", 400, type="bet", game_category="slots")
    assert on_a_bet["fields"] == {"bonus_id": ["Only a win names a bonus (a free-spin result)."]}
    spins_alone = refused(api, player, None, "invalid", 400, spins=2)
    assert spins_alone["fields"] == {"spins": ["Only with bonus_id (a free-spin result)."]}
    assert refused(api, player, bonus.pk, "invalid", 400, game_id="")["fields"] == {
        "game_id": ["Required for this type."]
    }
    assert refused(api, player, bonus.pk, "invalid", 400, spins=0)["fields"]["spins"]
    assert refused(api, player, str(bonus.pk), "invalid", 400)["fields"]["bonus_id"]
    assert refused(api, player, bonus.pk, "amount_invalid", 400, amount="-1.00")["code"] == "amount_invalid"


def test_the_last_spin_winning_nothing_completes_the_bonus_with_nothing_to_convert(platform_client, crm):
    player = gb_player()
    deposit(player, "20.00")
    bonus = spins_bonus(crm, player, spins_count=3)
    api = platform_client.api()
    assert result(api, player, bonus.pk, "0.00").json()["bonus"]["spins_left"] == 2
    bet(player, "1.00")  # a cash bet while spins are left: counted, but the bonus is not met
    bonus = fresh(bonus)
    assert bonus.wagered == D("1.0000") and bonus.wagering_required == D("0") and bonus.met_at is None

    r = result(api, player, bonus.pk, "0.00", spins=2)

    assert r.status_code == 201, r.json()
    assert r.json()["bonus"] == {
        "id": bonus.pk,
        "state": "completed",
        "spins_left": 0,
        "amount": "0.00",
        "currency": "GBP",
        "wagering_required": "0.0000",
        "wagered": "1.0000",
    }
    bonus = fresh(bonus)
    assert (bonus.state, bonus.end_reason, bonus.converted_amount, bonus.forfeited_amount) == (
        BonusState.COMPLETED,
        EndReason.WAGERED,
        D("0.00"),
        D("0.00"),
    )
    zero = LedgerTransaction.objects.get(pk=r.json()["transaction"]["id"])
    assert zero.amount == D("0") and not Entry.objects.filter(transaction=zero).exists()
    assert not LedgerTransaction.objects.filter(player=player, type__in=["bonus_convert", "bonus_forfeit"]).exists()
    assert balances(player) == {"cash": D("19.0000"), "bonus": D("0.0000")}
    played = AuditEvent.objects.get(action="bonuses.spins_played", target_id=str(bonus.pk))
    assert played.data["spins"] == 3 and played.data["won"] == "0.00"
    assert AuditEvent.objects.filter(action="bonuses.completed", target_id=str(bonus.pk)).exists()
    assert FreeSpinResult.objects.filter(bonus=bonus).count() == 2


def test_the_winnings_are_wagered_with_normal_bets_then_converted(platform_client, crm):
    player = gb_player()
    deposit(player, "20.00")
    bonus = spins_bonus(crm, player, spins_count=2, wagering_multiplier="10")
    api = platform_client.api()
    result(api, player, bonus.pk, "1.00")
    bet(player, "2.00")  # while spins are left: counts, never met
    r = result(api, player, bonus.pk, "0.50", game_id="book-of-dead")
    assert r.json()["bonus"]["state"] == "active" and r.json()["bonus"]["spins_left"] == 0
    bonus = fresh(bonus)
    assert (bonus.amount, bonus.wagering_required, bonus.wagered) == (D("1.50"), D("15.0000"), D("2.0000"))
    assert AuditEvent.objects.get(action="bonuses.spins_played", target_id=str(bonus.pk)).data["won"] == "1.50"
    assert balances(player) == {"cash": D("18.0000"), "bonus": D("1.5000")}

    for _ in range(6):
        bet(player, "2.00")  # GBP 12 more, cash first: GBP 14 wagered
    assert fresh(bonus).met_at is None
    bet(player, "1.00")  # GBP 15: met
    assert fresh(bonus).met_at is not None
    assert awards.bonuses_process_due()["completed"] == 1
    bonus = fresh(bonus)
    assert (bonus.state, bonus.converted_amount) == (BonusState.COMPLETED, D("1.50"))
    assert balances(player) == {"cash": D("6.5000"), "bonus": D("0.0000")}  # 20 - 15 staked + 1.50 converted


def test_the_last_spin_completes_at_once_when_bets_already_covered_the_winnings(platform_client, crm):
    player = gb_player()
    deposit(player, "20.00")
    bonus = spins_bonus(crm, player, spins_count=2, wagering_multiplier="2", max_conversion="1.00")
    api = platform_client.api()
    result(api, player, bonus.pk, "2.00")  # GBP 4 to wager
    for _ in range(3):
        bet(player, "2.00")  # GBP 6 wagered while a spin is left
    r = result(api, player, bonus.pk, "0.00")
    assert r.json()["bonus"]["state"] == "completed"
    assert r.json()["balances"]["cash"] == "15.00" and r.json()["balances"]["bonus"] == "0.00"  # after the conversion
    bonus = fresh(bonus)
    assert (bonus.converted_amount, bonus.forfeited_amount) == (D("1.00"), D("1.0000"))  # the maximum conversion


def test_a_rollback_of_a_free_spin_win_gives_the_spins_back(platform_client, crm):
    player = gb_player()
    bonus = spins_bonus(crm, player)
    api = platform_client.api()
    result(api, player, bonus.pk, "1.20", reference="fs-1")
    result(api, player, bonus.pk, "0.00", reference="fs-2")
    for reference in ("fs-1", "fs-2"):
        r = api.post(
            URL,
            {"type": "rollback", "player": player.external_id, "rollback_of": reference, "rollback_type": "win"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        assert r.status_code == 201, r.json()
    bonus = fresh(bonus)
    assert (bonus.amount, bonus.wagering_required, bonus.spins_left) == (D("0.00"), D("0.0000"), 10)
    assert balances(player) == {"cash": D("0.0000"), "bonus": D("0.0000")}
    assert sorted(FreeSpinResult.objects.filter(bonus=bonus).values_list("spins", "amount")) == [
        (-1, D("-1.20")),
        (-1, D("0.00")),
        (1, D("0.00")),
        (1, D("1.20")),
    ]


def test_a_rollback_of_a_free_spin_win_of_an_ended_bonus_is_refused(platform_client, crm):
    player = gb_player()
    bonus = spins_bonus(crm, player, spins_count=1, wagering_multiplier="0")
    api = platform_client.api()
    assert result(api, player, bonus.pk, "1.20", reference="fs-1").json()["bonus"]["state"] == "completed"
    before = snapshot(TABLES)
    r = api.post(
        URL,
        {"type": "rollback", "player": player.external_id, "rollback_of": "fs-1", "rollback_type": "win"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert (r.status_code, r.json()["code"]) == (409, "bonus_not_active")
    after = snapshot(TABLES)
    after.pop("wallet.IdempotencyRecord"), before.pop("wallet.IdempotencyRecord")
    assert after == before
    assert balances(player) == {"cash": D("1.2000"), "bonus": D("0.0000")}  # converted at once: nothing to wager


def test_a_win_without_a_bonus_id_is_unchanged(platform_client, crm):
    player = gb_player()
    deposit(player, "20.00")
    bonus = spins_bonus(crm, player)
    api = platform_client.api()
    posted = posting.wallet_bet(
        player=player,
        amount=D("2.00"),
        currency="GBP",
        round_id="R1",
        game_category="slots",
        game_id="starburst",
        api_client=platform_client.model.prefix,
        reference="b1",
    )
    assert posted.balances["cash"] == D("18.0000")
    win = {"type": "win", "player": player.external_id, "currency": "GBP", "round_id": "R1", "game_id": "starburst"}
    r = api.post(URL, {**win, "amount": "5.00"}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert r.status_code == 201 and "bonus" not in r.json()
    assert r.json()["balances"]["cash"] == "23.00" and r.json()["balances"]["bonus"] == "0.00"  # to cash, as staked
    zero = api.post(URL, {**win, "amount": "0.00"}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert zero.json()["code"] == "amount_invalid"  # a plain win is still more than 0
    no_bet = api.post(
        URL, {**win, "amount": "1.00", "round_id": "R404"}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )
    assert no_bet.json()["code"] == "unknown_round"
    bonus = fresh(bonus)
    assert (bonus.amount, bonus.spins_left, bonus.wagered) == (D("0"), 10, D("2.0000"))
    assert not FreeSpinResult.objects.exists()


def test_the_service_call_and_a_hook_refusing_after_the_write_rolls_everything_back(crm):
    from django.db import transaction

    player = gb_player()
    bonus = spins_bonus(crm, player)
    posted = free_spins.wallet_free_spin_win(
        player=player, amount=D("0.40"), currency="GBP", round_id="S1", game_id="starburst", bonus_id=bonus.pk
    )
    assert isinstance(posted, free_spins.FreeSpinPosted) and posted.bonus["spins_left"] == 9

    from apps.core.errors import Conflict

    def late_refusal(win):
        def apply(txn):
            raise Conflict("too late")

        return apply

    free_spins.register_free_spin_hook(late_refusal)
    before = snapshot(TABLES)
    try:
        with pytest.raises(RuntimeError, match="refused after the write"), transaction.atomic():
            free_spins.free_spin_win(
                player=player, amount=D("1.00"), currency="GBP", round_id="S2", game_id="starburst", bonus_id=bonus.pk
            )
    finally:
        from apps.bonuses.free_spins import register

        register()
    assert snapshot(TABLES) == before


@pytest.mark.usefixtures("geo_rules", "role_groups")
@pytest.mark.django_db(transaction=True)
def test_concurrent_results_never_play_more_spins_than_the_bonus_has():
    """Six results race for three spins: the player's account lock, then the bonus row's, serialise them; three
    are credited, three refused, and the bonus holds exactly the three wins."""
    import threading

    from django.db import connection

    from apps.staff import roles
    from tests.conftest import make_platform_client
    from tests.factories import StaffUserFactory

    client = make_platform_client()
    crm = StaffUserFactory(roles=[roles.CRM_MANAGER])
    player = gb_player()
    bonus = spins_bonus(crm, player, spins_count=3)
    answers: list[tuple[int, str]] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        try:
            barrier.wait()
            r = result(client.api(), player, bonus.pk, "0.25")
            answers.append((r.status_code, r.json().get("code", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [(201, "")] * 3 + [(409, "bonus_spins_exhausted")] * 3
    bonus = fresh(bonus)
    assert (bonus.spins_left, bonus.amount, bonus.wagering_required) == (0, D("0.75"), D("7.5000"))
    assert balances(player) == {"cash": D("0.0000"), "bonus": D("0.7500")}


def test_the_player_page_shows_the_spins_left(platform_client, crm):
    from apps.staff import roles
    from tests.conftest import verified_client
    from tests.factories import StaffUserFactory

    player = gb_player()
    bonus = spins_bonus(crm, player)
    result(platform_client.api(), player, bonus.pk, "1.20", spins=9)
    section = f"/admin/players/player/{player.pk}/section/bonuses/?partial=1"
    html = verified_client(StaffUserFactory(roles=[roles.SUPPORT_AGENT])).get(section).content.decode()
    assert "1 free spin left" in html and "Wagered 0.00 of 12.00 GBP" in html


def test_the_openapi_schema_documents_the_free_spin_result():
    from drf_spectacular.generators import SchemaGenerator

    spec = SchemaGenerator().get_schema(request=None, public=True)
    schemas = spec["components"]["schemas"]
    body = schemas["TransactionInputRequest"]["properties"]
    assert body["bonus_id"]["type"] == "integer" and body["bonus_id"]["minimum"] == 1
    assert (body["spins"]["minimum"], body["spins"]["maximum"]) == (1, 10000)
    assert "bonus" in schemas["PostedOutput"]["properties"] and "bonus" not in schemas["PostedOutput"]["required"]
    assert set(schemas["FreeSpinBonusOutput"]["properties"]) == {
        "id",
        "state",
        "spins_left",
        "amount",
        "currency",
        "wagering_required",
        "wagered",
    }
    operation = spec["paths"]["/api/v1/wallet/transactions/"]["post"]
    assert "`bonus_not_found`" in operation["responses"]["404"]["description"]
    for code in ("bonus_not_active", "bonus_not_free_spins", "bonus_spins_exhausted", "bonus_game_not_included"):
        assert f"`{code}`" in operation["responses"]["409"]["description"]
    assert "`free_spins_unavailable`" in operation["responses"]["409"]["description"]
    assert "Free spins" in operation["description"]
