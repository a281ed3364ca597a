from django.db import models


class SelfExclusionRegister(models.TextChoices):
    NONE = "", "None"
    GAMSTOP = "gamstop", "GAMSTOP (GB)"
    OASIS = "oasis", "OASIS (DE)"
    SPELPAUS = "spelpaus", "Spelpaus (SE)"
    ROFUS = "rofus", "ROFUS (DK)"
    CRUKS = "cruks", "CRUKS (NL)"
    IGO = "igo", "iGaming Ontario centralised self-exclusion (CA-ON)"


class GameCategory(models.TextChoices):
    SLOTS = "slots", "Slots"
    TABLE = "table", "Table games"
    LIVE = "live", "Live casino"
    SPORTS = "sports", "Sports betting"
    POKER = "poker", "Poker"


class OverrideAction(models.TextChoices):
    BLOCK = "block", "Block (e.g. a known VPN exit)"
    COUNTRY = "country", "Treat as a country (e.g. a test office)"


class WageringOrder(models.TextChoices):
    """Which balance a stake takes first while a bonus is active (and a win goes back to in proportion)."""

    CASH_FIRST = "cash_first", "Cash first, then bonus"
    BONUS_FIRST = "bonus_first", "Bonus first, then cash"
