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
