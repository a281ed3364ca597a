"""Demo bonuses for ``make run``: the demo CRM Manager's templates (a UK-compliant welcome match, a no-deposit
cash bonus claimed with a code, a Swedish welcome bonus, a draft reload for Malta, and a big-budget free-spins
template waiting for a second CRM Manager), and active bonuses for a few verified GB players who deposit and bet,
so wagering progress shows on their player pages and in the player bonuses list.

Idempotent: once the demo welcome template exists, nothing more is seeded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.audit.services import AuditActor
from apps.core.errors import ApplicationError

DEMO_CRM = "demo-crm-manager"
WELCOME = "demo-gb-welcome"
D = Decimal
TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "code": WELCOME,
        "name": "Welcome: 100% up to GBP 100",
        "description": "Your first deposit matched 100% up to GBP 100. Wager the bonus 10 times on slots within 30 "
        "days; GBP 2 maximum stake while wagering.",
        "type": "deposit_match",
        "products": ["casino"],
        "currency": "GBP",
        "percent": "100",
        "amount": "100.00",
        "min_deposit": "10.00",
        "wagering_multiplier": "10",
        "max_bet": "2.00",
        "budget": "5000.00",
        "jurisdictions": ["GB"],
        "priority": 10,
    },
    {
        "code": "demo-gb-free5",
        "name": "GBP 5 free, no deposit",
        "type": "cash",
        "products": ["casino"],
        "currency": "GBP",
        "amount": "5.00",
        "wagering_multiplier": "5",
        "max_bet": "2.00",
        "max_conversion": "50.00",
        "budget": "1000.00",
        "bonus_code": "FREE5",
        "jurisdictions": ["GB"],
    },
    {
        "code": "demo-se-welcome",
        "name": "Välkomstbonus 100% upp till 1 000 kr",
        "type": "deposit_match",
        "products": ["casino"],
        "currency": "SEK",
        "percent": "100",
        "amount": "1000.00",
        "wagering_multiplier": "20",
        "days_to_wager": 60,
        "budget": "20000.00",
        "jurisdictions": ["SE"],
    },
)
DRAFTS: tuple[dict[str, Any], ...] = (
    {
        "code": "demo-mt-reload",
        "name": "Weekend reload 50% up to EUR 200",
        "type": "reload",
        "products": ["casino", "betting"],
        "currency": "EUR",
        "percent": "50",
        "amount": "200.00",
        "wagering_multiplier": "30",
        "budget": "2000.00",
        "jurisdictions": ["MT"],
    },
)
PENDING = {
    "code": "demo-gb-spins",
    "name": "50 free spins on Starburst",
    "type": "free_spins",
    "products": ["casino"],
    "currency": "GBP",
    "spins_count": 50,
    "spin_stake": "0.10",
    "games": ["starburst"],
    "wagering_multiplier": "10",
    "max_bet": "2.00",
    "budget": "50000.00",
    "jurisdictions": ["GB"],
}


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    from apps.bonuses import awards, templates
    from apps.bonuses.choices import Source
    from apps.bonuses.models import BonusTemplate
    from apps.players.models import Player
    from apps.staff.models import StaffUser
    from apps.wallet import posting

    if BonusTemplate.objects.filter(code=WELCOME).exists():
        return ["bonuses: demo templates already there"]
    crm = StaffUser.objects.filter(username=DEMO_CRM, is_active=True).first()
    if crm is None:
        return ["bonuses: no demo CRM Manager, no demo bonuses"]
    made = []
    with transaction.atomic():
        for data in TEMPLATES:
            template = templates.template_create(actor=crm, data=data)
            made.append(templates.template_publish(actor=crm, template=template, reason="Demo launch"))
        for data in DRAFTS:
            templates.template_create(actor=crm, data=data)
        spins = templates.template_create(actor=crm, data=PENDING)
        templates.template_publish(actor=crm, template=spins, reason="Spring campaign: needs a second approval")
    welcome = made[0]
    players = Player.objects.filter(currency="GBP", country="GB", status="active", kyc__level=2).exclude(
        bonuses__isnull=False
    )
    awarded = 0
    for i, player in enumerate(players.order_by("-id")[:40]):
        if awarded >= 6:
            break
        try:
            with transaction.atomic():
                deposited = D("50.00") + D(10 * i)
                posting.wallet_deposit(
                    player=player,
                    amount=deposited,
                    currency="GBP",
                    api_client="demo",
                    reference=f"demo-bonus-dep-{player.pk}",
                )
                awards.bonus_award(
                    actor=None,
                    player=player,
                    template=welcome,
                    source=Source.DEPOSIT,
                    source_ref=f"demo-{player.pk}",
                    deposit_amount=deposited,
                )
                for n in range(5 + 10 * awarded):
                    posting.wallet_bet(
                        player=player,
                        amount=D("2.00"),
                        currency="GBP",
                        round_id=f"demo-bonus-{player.pk}-{n}",
                        game_category="slots",
                        game_id="starburst",
                        provider="demo",
                        api_client="demo",
                        reference=f"demo-bonus-bet-{player.pk}-{n}",
                    )
            awarded += 1
        except ApplicationError:  # a demo player with a limit or a block: the next one
            continue
    return [
        f"bonuses: {len(made)} published templates, 1 draft, 1 waiting for a second CRM Manager (demo-gb-spins)",
        f"bonuses: {awarded} GB players on the welcome bonus, wagering in progress",
    ]
