"""The bonus engine's vocabularies (docs/BONUSES.md)."""

from __future__ import annotations

from django.db import models


class BonusType(models.TextChoices):
    DEPOSIT_MATCH = "deposit_match", "Deposit match"
    CASH = "cash", "Cash (no deposit)"
    FREE_SPINS = "free_spins", "Free spins"
    CASHBACK = "cashback", "Cashback on net losses"
    RELOAD = "reload", "Reload (a later deposit)"
    FREE_BET = "free_bet", "Free bet (sports: the stake is not returned)"


# Types paid on a deposit (their amount is a share of it); the others are a fixed amount or computed.
DEPOSIT_TYPES = frozenset({BonusType.DEPOSIT_MATCH, BonusType.RELOAD})
# Types that reward a player who already played: never "the first occasion" (Sweden)
REPEAT_TYPES = frozenset({BonusType.RELOAD, BonusType.CASHBACK})


class Trigger(models.TextChoices):
    MANUAL = "manual", "Claim, code, campaign or staff only"
    FIRST_DEPOSIT = "first_deposit", "On the player's first deposit"
    DEPOSIT = "deposit", "On every qualifying deposit (reload)"


class Product(models.TextChoices):
    CASINO = "casino", "Casino"
    BETTING = "betting", "Betting"
    BINGO = "bingo", "Bingo"
    LOTTERY = "lottery", "Lottery"


class WageringBase(models.TextChoices):
    BONUS = "bonus", "The bonus"
    BONUS_DEPOSIT = "bonus_deposit", "The bonus and the deposit"


class MaxBetPolicy(models.TextChoices):
    REFUSE = "refuse", "Refuse the bet"
    VOID = "void", "Take the bet and forfeit the bonus"


class WithdrawalPolicy(models.TextChoices):
    FORFEIT = "forfeit", "A withdrawal request forfeits the bonus"
    KEEP = "keep", "The bonus stays (only cash is withdrawn)"


class TemplateState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Waiting for a second person"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class BonusState(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACTIVE = "active", "Active (wagering)"
    COMPLETED = "completed", "Completed (converted to cash)"
    FORFEITED = "forfeited", "Forfeited"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (BonusState.OFFERED, BonusState.ACTIVE)


class Source(models.TextChoices):
    CLAIM = "claim", "Claimed by the player"
    CODE = "code", "Bonus code"
    CAMPAIGN = "campaign", "Campaign"
    MANUAL = "manual", "Awarded by staff"
    DEPOSIT = "deposit", "On a deposit"


class EndReason(models.TextChoices):
    WAGERED = "wagered", "Wagering met"
    WITHDRAWAL = "withdrawal", "A withdrawal request"
    MAX_BET = "max_bet", "A bet above the maximum bet"
    CLAIM_EXPIRED = "claim_expired", "Not claimed in time"
    WAGER_EXPIRED = "wager_expired", "Wagering not met in time"
    STAFF = "staff", "Cancelled by staff"
    PLAYER = "player", "Cancelled by the player"
    NOT_ELIGIBLE = "not_eligible", "No longer eligible"


class FlagKind(models.TextChoices):
    SHARED_DEVICE = "shared_device", "A device shared with another recipient"
    SHARED_IP = "shared_ip", "An IP address shared with another recipient"
    SHARED_INSTRUMENT = "shared_instrument", "A payment instrument shared with another recipient"
    SHARED_IDENTITY = "shared_identity", "The same person as another recipient (identity key)"
    CLAIM_VELOCITY = "claim_velocity", "Many bonuses claimed in a short time"
    ONE_GAME = "one_game", "Wagering cleared on one high-return game"
    QUICK_WITHDRAWAL = "quick_withdrawal", "A withdrawal at once after wagering cleared"
