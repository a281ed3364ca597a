"""The bonuses' rows of the persona sweep (tests/staff/test_personas.py merges them into its ``CASES`` with
``**BONUS_CASES``): every bonuses permission, a role that holds it and succeeds, one that does not and is refused.
Objects are rows made by the ORM (no audit: a refusal must write none), once per world unless each try needs its
own (a draft to publish, a bonus to cancel)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.bonuses.choices import BonusState, Source, TemplateState
from apps.bonuses.models import BonusTemplate, PlayerBonus
from apps.staff import roles
from tests.factories import PlayerFactory
from tests.staff.personas import Case, Get, Post, Service, Unchecked, World

CRM, SA, FO, KYC = roles.CRM_MANAGER, roles.SUPPORT_AGENT, roles.FINANCE_OFFICER, roles.KYC_OFFICER
AML = roles.AML_ANALYST
NOBODY = None
TEMPLATES = "/admin/bonuses/bonustemplate/"
BONUSES = "/admin/bonuses/playerbonus/"
CHANGES = "/admin/bonuses/templatechange/"
FLAGS = "/admin/bonuses/bonusflag/"
_n = iter(range(1, 1_000_000))


def template_row(state: str = TemplateState.DRAFT, **over: Any) -> BonusTemplate:
    n = next(_n)
    fields: dict[str, Any] = {
        "code": f"persona-{n}",
        "name": f"Persona bonus {n}",
        "type": "cash",
        "products": ["casino"],
        "currency": "GBP",
        "amount": Decimal("5.00"),
        "wagering_multiplier": Decimal("1"),
        "max_bet": Decimal("2.00"),
        "budget": Decimal("100.00"),
        "jurisdictions": ["GB"],
        "state": state,
    }
    return BonusTemplate.objects.create(**{**fields, **over})


def _once(w: World, key: str, make: Any) -> Any:
    if key not in w.__dict__:
        w.__dict__[key] = make()
    return w.__dict__[key]


def persona_template(w: World) -> BonusTemplate:
    return _once(w, "bonus_template", template_row)


def persona_bonus(w: World) -> PlayerBonus:
    def make() -> PlayerBonus:
        template = template_row(TemplateState.PUBLISHED)
        return PlayerBonus.objects.create(
            player=PlayerFactory(), template=template, source=Source.MANUAL, currency="GBP", state=BonusState.OFFERED
        )

    return _once(w, "player_bonus", make)


def persona_flag(w: World) -> Any:
    from apps.bonuses.models import BonusFlag

    return _once(w, "bonus_flag", lambda: BonusFlag.objects.create(player=PlayerFactory(), kind="claim_velocity"))


def persona_change(w: World) -> Any:
    from apps.bonuses.models import TemplateChange

    return _once(
        w, "template_change", lambda: TemplateChange.objects.create(template=persona_template(w), action="created")
    )


def publish(w: World, staff: Any) -> None:
    from apps.bonuses import templates

    templates.template_publish(actor=staff, template=template_row(), reason="Persona launch")


def update(w: World, staff: Any) -> None:
    from apps.bonuses import templates

    templates.template_update(actor=staff, template=template_row(), data={"name": "Persona renamed"})


def approve(w: World, staff: Any) -> None:
    from apps.approvals.models import Approval
    from apps.approvals.services import approval_decide

    template = template_row(TemplateState.PENDING)
    maker = w.staff(CRM)
    approval = Approval.objects.create(
        kind="bonuses.template_publish",
        target_ct_id=_ct(),
        target_id=str(template.pk),
        maker=maker,
        reason="Persona launch",
        amount=None,
        currency="GBP",
        state="pending",
    )
    approval_decide(actor=staff, approval=approval, approve=True)


def _ct() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(BonusTemplate).pk


def award(w: World, staff: Any) -> None:
    from apps.bonuses import awards

    template = template_row(TemplateState.PUBLISHED, wagering_multiplier=Decimal("0"))
    awards.bonus_award(actor=staff, player=PlayerFactory(), template=template, source=Source.MANUAL)


def cancel(w: World, staff: Any) -> None:
    from apps.bonuses import awards

    template = template_row(TemplateState.PUBLISHED)
    bonus = PlayerBonus.objects.create(
        player=PlayerFactory(), template=template, source=Source.MANUAL, currency="GBP", state=BonusState.OFFERED
    )
    awards.bonus_cancel(actor=staff, bonus=bonus, reason="Persona: asked by the player")


def never(w: World) -> bool:
    return False


BONUS_CASES: dict[str, Case] = {
    "bonuses.view_bonustemplate": Case(CRM, SA, Get(lambda w: f"{TEMPLATES}{persona_template(w).pk}/change/")),
    "bonuses.add_bonustemplate": Case(CRM, FO, Get(lambda w: f"{TEMPLATES}add/")),
    "bonuses.change_bonustemplate": Case(CRM, FO, Service(update, "bonus_not_permitted")),
    "bonuses.publish_bonustemplate": Case(CRM, FO, Service(publish, "bonus_not_permitted")),
    "bonuses.approve_bonustemplate": Case(CRM, FO, Service(approve, "approval_not_permitted")),
    "bonuses.delete_bonustemplate": Case(NOBODY, CRM, Get(lambda w: f"{TEMPLATES}{persona_template(w).pk}/delete/")),
    "bonuses.view_templatechange": Case(CRM, SA, Get(lambda w: f"{CHANGES}{persona_change(w).pk}/change/")),
    "bonuses.add_templatechange": Case(NOBODY, CRM, Get(lambda w: f"{CHANGES}add/")),
    "bonuses.change_templatechange": Case(
        NOBODY, CRM, Post(lambda w: f"{CHANGES}{persona_change(w).pk}/change/", lambda w: {}, never)
    ),
    "bonuses.delete_templatechange": Case(NOBODY, CRM, Get(lambda w: f"{CHANGES}{persona_change(w).pk}/delete/")),
    "bonuses.view_playerbonus": Case(SA, KYC, Get(lambda w: f"{BONUSES}{persona_bonus(w).pk}/change/")),
    "bonuses.award_playerbonus": Case(CRM, SA, Service(award, "bonus_not_permitted")),
    "bonuses.cancel_playerbonus": Case(SA, FO, Service(cancel, "bonus_not_permitted")),
    "bonuses.add_playerbonus": Case(NOBODY, CRM, Get(lambda w: f"{BONUSES}add/")),
    "bonuses.change_playerbonus": Case(
        NOBODY, CRM, Post(lambda w: f"{BONUSES}{persona_bonus(w).pk}/change/", lambda w: {}, never)
    ),
    "bonuses.delete_playerbonus": Case(NOBODY, CRM, Get(lambda w: f"{BONUSES}{persona_bonus(w).pk}/delete/")),
    "bonuses.view_bonusflag": Case(AML, SA, Get(lambda w: f"{FLAGS}{persona_flag(w).pk}/change/")),
    "bonuses.add_bonusflag": Case(NOBODY, CRM, Get(lambda w: f"{FLAGS}add/")),
    "bonuses.change_bonusflag": Case(
        NOBODY, CRM, Post(lambda w: f"{FLAGS}{persona_flag(w).pk}/change/", lambda w: {}, never)
    ),
    "bonuses.delete_bonusflag": Case(NOBODY, CRM, Get(lambda w: f"{FLAGS}{persona_flag(w).pk}/delete/")),
    # free-spin results: written by the platform's win postings, shown on the player page's bonus section (its
    # viewers' permission); no admin of their own
    **{
        f"bonuses.{verb}_freespinresult": Case(NOBODY, None, Unchecked("the player page: view_playerbonus"))
        for verb in ("view", "add", "change", "delete")
    },
}
