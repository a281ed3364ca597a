"""The bonus engine's error codes (docs/ERRORS.md, domain ``bonuses``). Import only apps.core.errors here.

``bonus_max_bet`` is an eligibility reason (apps/bonuses/wagering.py's check), answered by a refused bet."""

from __future__ import annotations

from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class BonusTemplateInvalid(ValidationFailed):
    code = "bonus_template_invalid"
    when = "a template's terms are missing or out of range (the fields say which)"


class BonusRuleViolation(ValidationFailed):
    code = "bonus_rule_violation"
    status = 422
    when = (
        "a template or an award breaks a jurisdiction's bonus rule (`fields.rule` names it: wagering_cap, "
        "single_product, max_bet_stake_cap, first_occasion, min_days_to_wager, currency, jurisdiction)"
    )


class BonusNotFound(NotFound):
    code = "bonus_not_found"
    when = "no such bonus of this player"


class BonusTemplateState(Conflict):
    code = "bonus_template_state"
    when = "the template's state does not allow this (only a draft is published; a retired one is never awarded)"


class BonusNotEligible(Conflict):
    code = "bonus_not_eligible"
    status = 403
    when = (
        "the player may not get this bonus now: `fields.reasons` says why (eligibility's reasons, or jurisdiction, "
        "currency, another_bonus_active, deposit_required, min_deposit, no_net_losses)"
    )


class BonusCodeInvalid(NotFound):
    code = "bonus_code_invalid"
    when = "no published bonus has this code"


class BonusExpired(Conflict):
    code = "bonus_expired"
    when = "the template's validity window or the offer's time to claim is over"


class BonusBudgetExhausted(Conflict):
    code = "bonus_budget_exhausted"
    when = "the template's budget or its maximum number of recipients is used up"


class BonusAlreadyClaimed(Conflict):
    code = "bonus_already_claimed"
    when = "the player already has this bonus (claimed, active or ended) up to its per-player limit"


class BonusNotActive(Conflict):
    code = "bonus_not_active"
    when = "the bonus has ended (or is not active yet): nothing to cancel, forfeit or convert"


class BonusNotPermitted(PermissionDenied):
    code = "bonus_not_permitted"
    when = "the staff member may not configure, publish, award or cancel bonuses"


class BonusNotFreeSpins(Conflict):
    code = "bonus_not_free_spins"
    when = "a free-spin result names a bonus of another type"


class BonusSpinsExhausted(Conflict):
    code = "bonus_spins_exhausted"
    when = "a free-spin result covers more spins than the bonus has left (`fields.spins` says how many)"


class BonusGameNotIncluded(Conflict):
    code = "bonus_game_not_included"
    when = "a free-spin result is for a game the bonus's spins are not for (`fields.game_id` lists them)"
