from django.db import models


class PlayerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    BLOCKED = "blocked", "Blocked"
    CLOSED = "closed", "Closed"


class Capability(models.TextChoices):
    """What staff can block independently of the account status."""

    DEPOSIT = "deposit", "Deposit"
    BET = "bet", "Bet"
    WITHDRAWAL = "withdrawal", "Withdrawal"
    BONUS = "bonus", "Bonuses"
    MARKETING = "marketing", "Marketing"


class Action(models.TextChoices):
    """What the platform asks permission for (eligibility)."""

    LOGIN = "login", "Login"
    DEPOSIT = "deposit", "Deposit"
    BET = "bet", "Bet"
    GAME_LAUNCH = "game_launch", "Game launch"
    WITHDRAW = "withdraw", "Withdraw"
    BONUS = "bonus", "Bonus"
    MARKETING = "marketing", "Marketing"


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
