"""Bonus-abuse flags: a device, IP, card or identity shared with another recipient, claim velocity, wagering
cleared on one high-return game, a withdrawal at once after completion; each once per bonus, audited, and each
opening (or joining) the player's fraud case in compliance."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from apps.bonuses import awards
from apps.bonuses.choices import FlagKind, Source
from apps.bonuses.models import BonusFlag
from apps.compliance.choices import CaseSource, CaseType
from apps.compliance.models import Case
from apps.players.models import PlayerLogin
from apps.wallet import posting
from apps.wallet.services import withdrawal_request
from tests.bonuses.conftest import deposit, gb_match, gb_player, published

pytestmark = pytest.mark.django_db
D = Decimal
CASH = {"type": "cash", "percent": None, "min_deposit": None, "amount": "5.00", "budget": "100.00"}


@pytest.fixture(autouse=True)
def inboxes():
    importlib.import_module("apps.compliance.migrations.0002_defaults_and_roles").forwards(django_apps, None)


def give(player, template):
    return awards.bonus_award(actor=None, player=player, template=template, source=Source.CAMPAIGN)


def test_a_device_shared_with_another_recipient_flags_and_opens_a_fraud_case(crm):
    template = published(crm, gb_match(**CASH))
    first, second = gb_player(), gb_player()
    for p in (first, second):
        PlayerLogin.objects.create(player=p, ip="81.2.69.160", device_id="dev-1", allowed=True)
    give(first, template)
    assert not BonusFlag.objects.exists()
    bonus = give(second, template)
    kinds = set(BonusFlag.objects.filter(bonus=bonus).values_list("kind", flat=True))
    assert kinds == {FlagKind.SHARED_DEVICE, FlagKind.SHARED_IP}
    flag = BonusFlag.objects.get(bonus=bonus, kind=FlagKind.SHARED_DEVICE)
    assert flag.others == [first.pk] and flag.evidence == {"device_id": ["dev-1"]}
    case = Case.objects.get(player=second)
    assert case.type == CaseType.FRAUD and case.source == CaseSource.BONUS_ABUSE


def test_a_card_or_an_identity_shared_with_another_recipient(crm):
    template = published(crm, gb_match(**CASH))
    first, second = gb_player(), gb_player()
    for p in (first, second):
        posting.wallet_deposit(
            player=p,
            amount=D("10"),
            currency="GBP",
            instrument_fingerprint="card-9",
            api_client="x",
            reference=f"d{p.pk}",
        )
    give(first, template)
    give(second, template)
    assert BonusFlag.objects.filter(player=second, kind=FlagKind.SHARED_INSTRUMENT).exists()
    twin = gb_player(first_name=second.first_name, last_name=second.last_name, date_of_birth=second.date_of_birth)
    give(twin, template)
    assert BonusFlag.objects.get(player=twin, kind=FlagKind.SHARED_IDENTITY).others == [second.pk]


def test_claim_velocity(crm, settings):
    settings.BONUS_FLAG_CLAIMS = 2
    player = gb_player()
    for _ in range(2):
        bonus = give(player, published(crm, gb_match(**CASH, wagering_multiplier="0")))  # completes at once
    assert BonusFlag.objects.get(player=player).kind == FlagKind.CLAIM_VELOCITY
    assert BonusFlag.objects.get(player=player).bonus == bonus


def _play(player, round_id: str, stake: str, win: str | None = None) -> None:
    posting.wallet_bet(
        player=player,
        amount=D(stake),
        currency="GBP",
        round_id=round_id,
        game_category="slots",
        game_id="lucky-7",
        provider="p",
        api_client="pfx",
        reference=f"bet-{round_id}",
    )
    if win:
        posting.wallet_win(
            player=player,
            amount=D(win),
            currency="GBP",
            round_id=round_id,
            game_id="lucky-7",
            game_category="slots",
            provider="p",
            api_client="pfx",
            reference=f"win-{round_id}",
        )


def test_wagering_cleared_on_one_high_return_game(crm):
    template = published(crm, gb_match(**CASH, wagering_multiplier="1"))
    player = gb_player()
    deposit(player, "10.00")
    bonus = give(player, template)
    _play(player, "r1", "2.00", win="6.00")
    _play(player, "r2", "2.00")
    _play(player, "r3", "2.00", win="2.00")
    awards.bonuses_process_due()
    flag = BonusFlag.objects.get(bonus=bonus, kind=FlagKind.ONE_GAME)
    assert flag.evidence == {"game": "lucky-7", "share": "1.00", "return": "1.33"}


def test_a_losing_game_is_no_flag_and_a_withdrawal_at_once_after_completion_is(crm):
    template = published(crm, gb_match(**CASH, wagering_multiplier="1"))
    player = gb_player()
    deposit(player, "10.00")
    bonus = give(player, template)
    for n in range(3):
        _play(player, f"l{n}", "2.00")
    awards.bonuses_process_due()
    bonus.refresh_from_db()
    assert bonus.state == "completed" and not BonusFlag.objects.filter(kind=FlagKind.ONE_GAME).exists()
    withdrawal_request(player=player, amount=D("1.00"), currency="GBP")
    quick = BonusFlag.objects.get(player=player, kind=FlagKind.QUICK_WITHDRAWAL)
    assert quick.bonus == bonus and quick.evidence["minutes_after_completion"] == 0
    withdrawal_request(player=player, amount=D("1.00"), currency="GBP")  # once per bonus
    assert BonusFlag.objects.filter(kind=FlagKind.QUICK_WITHDRAWAL).count() == 1
