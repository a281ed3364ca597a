from django.db import models


class PlayerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    BLOCKED = "blocked", "Blocked"
    CLOSED = "closed", "Closed"


class Action(models.TextChoices):
    """What the platform asks permission for (eligibility). One word per act: code names an act by its member
    here, and ``Capability`` (what staff can block) uses the same member names."""

    LOGIN = "login", "Login"
    DEPOSIT = "deposit", "Deposit"
    BET = "bet", "Bet"
    GAME_LAUNCH = "game_launch", "Game launch"
    WITHDRAW = "withdraw", "Withdraw"
    BONUS = "bonus", "Bonus"
    MARKETING = "marketing", "Marketing"


class Capability(models.TextChoices):
    """The acts staff can block independently of the account status, named as in ``Action``.

    The values are the stored and published spelling: the player's ``blocked_<value>`` columns and API fields, the
    ``blocked_for_<value>`` eligibility reasons, restriction rows and webhooks. For withdrawals that spelling is
    ``withdrawal`` (published before the names were aligned; the platform relies on it), so the member is
    ``WITHDRAW`` and its value ``"withdrawal"``. ``BLOCKED_BY`` says which capability each action needs."""

    DEPOSIT = "deposit", "Deposit"
    BET = "bet", "Bet"
    WITHDRAW = "withdrawal", "Withdrawal"
    BONUS = "bonus", "Bonuses"
    MARKETING = "marketing", "Marketing"


# The capability a block of which refuses the action (a game launch is a bet's; login is never blocked this way).
BLOCKED_BY: dict[str, Capability] = {
    Action.DEPOSIT: Capability.DEPOSIT,
    Action.BET: Capability.BET,
    Action.GAME_LAUNCH: Capability.BET,
    Action.WITHDRAW: Capability.WITHDRAW,
    Action.BONUS: Capability.BONUS,
    Action.MARKETING: Capability.MARKETING,
}


class Gender(models.TextChoices):
    """As the player gave it at registration (or staff corrected it); the UK return counts by it."""

    NOT_RECORDED = "", "Not recorded"
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"


class VipTier(models.TextChoices):
    NONE = "", "—"
    BRONZE = "bronze", "Bronze"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


class BlockAuthority(models.TextChoices):
    """On whose authority a status or a block was imposed. Compliance and responsible-gambling blocks are
    lifted only by that authority, and by two people."""

    COMPLIANCE = "compliance", "Compliance"
    RESPONSIBLE_GAMBLING = "responsible_gambling", "Responsible gambling"
    FINANCE = "finance", "Finance"
    SUPPORT = "support", "Support"


PROTECTED_AUTHORITIES = frozenset({BlockAuthority.COMPLIANCE, BlockAuthority.RESPONSIBLE_GAMBLING})


class Visibility(models.TextChoices):
    """Who may read a reason or a note: every staff member, or only those with the compliance permission
    (``players.view_compliance``). Telling a player about an AML review is tipping off."""

    GENERAL = "general", "All staff"
    COMPLIANCE = "compliance", "Compliance only"
