"""Wagering on every posting, in the posting's statement: contributions per game category, excluded games, rollbacks
taking back, completion (capped conversion, the rest forfeited), the maximum bet refused or voiding, withdrawals
forfeiting by policy (and the preview that says so first), expiry, and the wagering order per jurisdiction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.bonuses import awards, wagering
from apps.bonuses.choices import BonusState, EndReason, Source
from apps.bonuses.models import PlayerBonus
from apps.players.eligibility import can
from apps.wallet.models import LedgerTransaction
from apps.wallet.posting import PostingRefused
from apps.wallet.services import withdrawal_request
from tests.bonuses.conftest import balances, bet, deposit, gb_match, gb_player, published, undo

pytestmark = pytest.mark.django_db
D = Decimal


def active(crm, player, **terms) -> PlayerBonus:
    """GBP 20 deposited and a GBP 20 match (10x: GBP 200 to wager, unless the terms say otherwise)."""
    template = published(crm, gb_match(budget="1000.00", **terms))
    deposit(player, "20.00")
    return awards.bonus_award(
        actor=None, player=player, template=template, source=Source.DEPOSIT, deposit_amount=D("20.00")
    )


def fresh(bonus: PlayerBonus) -> PlayerBonus:
    return PlayerBonus.objects.get(pk=bonus.pk)


def test_contributions_by_category_excluded_games_and_rollbacks(crm):
    player = gb_player()
    bonus = active(crm, player, excluded_games=["jackpot-6000"])
    bet(player, "2.00")  # slots 100%
    bet(player, "2.00", category="table", game="blackjack")  # 10%
    bet(player, "2.00", category="live", game="lightning")  # 5%
    bet(player, "2.00", game="jackpot-6000")  # excluded
    assert fresh(bonus).wagered == D("2.3000")
    reference = bet(player, "1.50")
    assert fresh(bonus).wagered == D("3.8000")
    undo(player, reference)  # the rollback takes its contribution back
    assert fresh(bonus).wagered == D("2.3000")


def test_a_player_without_a_bonus_is_untouched_and_another_currency_is_not_counted(crm):
    player = gb_player()
    deposit(player, "10.00")
    bet(player, "1.00")
    assert not PlayerBonus.objects.exists()
    bonus = active(crm, gb_player())
    assert fresh(bonus).wagered == 0


def test_wagering_met_is_converted_by_the_job_up_to_the_max_conversion(crm):
    player = gb_player()
    bonus = active(crm, player, wagering_multiplier="1", max_conversion="15.00")  # GBP 20 to wager
    for _ in range(10):
        bet(player, "2.00")  # GBP 20 staked: cash first (GBP 20 of cash), the bonus untouched
    bonus = fresh(bonus)
    assert bonus.wagered == D("20.0000") and bonus.met_at is not None and bonus.state == BonusState.ACTIVE
    assert balances(player) == {"cash": D("0.0000"), "bonus": D("20.0000")}
    done = awards.bonuses_process_due()
    assert done["completed"] == 1
    bonus = fresh(bonus)
    assert bonus.state == BonusState.COMPLETED and bonus.end_reason == EndReason.WAGERED
    assert bonus.converted_amount == D("15.00") and bonus.forfeited_amount == D("5.0000")
    assert balances(player) == {"cash": D("15.0000"), "bonus": D("0.0000")}
    types = list(LedgerTransaction.objects.filter(player=player).order_by("id").values_list("type", flat=True))
    assert types[-2:] == ["bonus_convert", "bonus_forfeit"]


def test_a_rollback_after_the_mark_is_rechecked_before_converting(crm):
    player = gb_player()
    bonus = active(crm, player, wagering_multiplier="1")
    refs = [bet(player, "2.00") for _ in range(10)]
    assert fresh(bonus).met_at is not None
    undo(player, refs[-1])
    assert awards.bonuses_process_due()["not_met"] == 1
    bonus = fresh(bonus)
    assert bonus.state == BonusState.ACTIVE and bonus.met_at is None and bonus.wagered == D("18.0000")


def test_a_bet_above_the_max_bet_is_refused_with_bonus_max_bet(crm):
    player = gb_player()
    bonus = active(crm, player, max_bet="2.00")
    with pytest.raises(PostingRefused) as excinfo:
        bet(player, "2.01")
    assert excinfo.value.code == "bonus_max_bet"
    assert excinfo.value.fields["bonus_max_bet"] == {"amount": "2.00", "currency": "GBP"}  # what the platform shows
    assert can(player, "bet", amount=D("2.50"), game_category="slots").restrictions["bonus_max_bet"] == {
        "amount": "2.00",
        "currency": "GBP",
    }
    bet(player, "2.00")
    assert fresh(bonus).wagered == D("2.0000")


def test_under_the_void_policy_the_bet_is_taken_and_the_bonus_forfeited(crm):
    player = gb_player()
    bonus = active(crm, player, max_bet="2.00", max_bet_policy="void")
    bet(player, "3.00")  # taken
    assert fresh(bonus).voided_at is not None
    assert awards.bonuses_process_due()["voided"] == 1
    bonus = fresh(bonus)
    assert bonus.state == BonusState.FORFEITED and bonus.end_reason == EndReason.MAX_BET
    assert balances(player)["bonus"] == 0


def test_a_withdrawal_request_forfeits_by_policy_and_the_preview_says_so_first(crm):
    player = gb_player()
    bonus = active(crm, player)
    preview = wagering.withdrawal_preview(player.pk, "GBP")
    assert preview is not None and preview["consequence"] == "forfeit" and preview["forfeited_amount"] == "20.0000"
    withdrawal_request(player=player, amount=D("10.00"), currency="GBP")
    bonus = fresh(bonus)
    assert bonus.state == BonusState.FORFEITED and bonus.end_reason == EndReason.WITHDRAWAL
    assert bonus.forfeited_amount == D("20.0000") and balances(player)["bonus"] == 0
    assert wagering.withdrawal_preview(player.pk, "GBP") is None


def test_a_keep_policy_leaves_the_bonus_on_a_withdrawal(crm):
    player = gb_player()
    bonus = active(crm, player, withdrawal_policy="keep")
    assert wagering.withdrawal_preview(player.pk, "GBP")["consequence"] == "none"
    withdrawal_request(player=player, amount=D("10.00"), currency="GBP")
    assert fresh(bonus).state == BonusState.ACTIVE and balances(player)["bonus"] == D("20.0000")


def test_the_time_to_wager_runs_out(crm):
    player = gb_player()
    bonus = active(crm, player)
    later = timezone.now() + timedelta(days=31)
    assert awards.bonuses_process_due(now=later)["wager_expired"] == 1
    bonus = fresh(bonus)
    assert bonus.state == BonusState.EXPIRED and bonus.end_reason == EndReason.WAGER_EXPIRED
    assert bonus.forfeited_amount == D("20.0000") and balances(player)["bonus"] == 0


def test_the_jurisdiction_s_wagering_order_bonus_first(crm):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE geo_rulepack SET bonus_wagering_order = 'bonus_first' WHERE jurisdiction_id = "
            "(SELECT id FROM geo_jurisdiction WHERE code = 'GB')"
        )
        cursor.execute("UPDATE geo_geoconfigversion SET version = nextval('geo_config_version_seq') WHERE id = 1")
    player = gb_player()
    active(crm, player, products=["betting"], max_bet=None)  # a sports bonus: no slot cap, no maximum bet
    bet(player, "2.00", category="sports", game="football")
    assert balances(player) == {"cash": D("20.0000"), "bonus": D("18.0000")}  # the bonus paid the stake
    bet(player, "19.00", category="sports", game="football")
    assert balances(player) == {"cash": D("19.0000"), "bonus": D("0.0000")}  # bonus first, then cash


def test_cash_first_is_the_default(crm):
    player = gb_player()
    active(crm, player)
    bet(player, "2.00")
    assert balances(player) == {"cash": D("18.0000"), "bonus": D("20.0000")}


@pytest.mark.django_db
def test_no_index_without_the_player_serves_a_query_for_one_players_active_bonus():
    """Every bet's wagering UPDATE and can()'s maximum-bet fact ask for one player's active bonus. A partial index
    on ``state = 'active'`` alone without the player in it (once bonuses_wager_due) is what the planner took while
    its statistics said it was empty (a campaign's 40,000 new active bonuses before autovacuum): every query
    scanned all active bonuses (10 s for a chunk's eligibility facts on the bench). Such an index must carry a
    condition those queries do not imply (the wager-due index: ``wager_by IS NOT NULL``)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bonuses_playerbonus' "
            "AND indexdef LIKE '%%WHERE%%'"
        )
        partial = dict(cursor.fetchall())
    for name, definition in partial.items():
        columns = definition.split(" USING btree (")[1].split(")")[0]
        where = definition.split(" WHERE ")[1]
        if "player_id" not in columns:
            assert where != "((state)::text = 'active'::text)", name
    assert "wager_by IS NOT NULL" in partial["bonuses_wager_due"]
