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
