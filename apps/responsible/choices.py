from django.db import models


class ExclusionKind(models.TextChoices):
    TIME_OUT = "time_out", "Time-out (player)"
    SELF_EXCLUSION = "self_exclusion", "Self-exclusion (player)"
    OPERATOR = "operator", "Operator exclusion or block"


class LimitKind(models.TextChoices):
    DEPOSIT = "deposit", "Deposit"
    LOSS = "loss", "Net loss"
    WAGER = "wager", "Wager"
    SESSION = "session", "Session time (minutes)"


class LimitPeriod(models.TextChoices):
    DAY = "day", "Per day"
    WEEK = "week", "Per week"
    MONTH = "month", "Per month"
    SESSION = "session", "Per session"


class LimitSource(models.TextChoices):
    PLAYER = "player", "Player"
    OPERATOR = "operator", "Operator"
    JURISDICTION = "jurisdiction", "Jurisdiction"  # never stored: read from the rule pack


class ChangeStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    PENDING = "pending", "Waiting (cooling-off, then the player's confirmation)"
    LAPSED = "lapsed", "Lapsed (not confirmed in time)"
    CANCELLED = "cancelled", "Cancelled (replaced by a later change)"


class FlagKind(models.TextChoices):
    LIMIT_80 = "limit_80", "80% of a limit used"
    LIMIT_REACHED = "limit_reached", "A limit fully used"


class InteractionChannel(models.TextChoices):
    CALL = "call", "Phone call"
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Chat"
    LETTER = "letter", "Letter"
    MEETING = "meeting", "Meeting"


class RegisterOutcome(models.TextChoices):
    HIT = "hit", "Registered (excluded)"
    MISS = "miss", "Not registered"
    ERROR = "error", "Register could not be asked"


class CoverKind(models.TextChoices):
    """What an exclusion's coverage row names: an account, or a key that finds the person's other accounts."""

    ACCOUNT = "account", "Account"
    FINGERPRINT = "fingerprint", "Identity fingerprint (name and birth date)"
    EMAIL = "email", "E-mail (keyed hash)"
    PHONE = "phone", "Phone (keyed hash)"
    INSTRUMENT = "instrument", "Payment instrument"


class CoverLink(models.TextChoices):
    """How a covered account was linked to the excluded person (shown on its player page)."""

    EXCLUDED = "excluded", "the excluded account"
    FINGERPRINT = "fingerprint", "same person by birth-date/name"
    EMAIL = "email", "same e-mail"
    PHONE = "phone", "same phone"
    INSTRUMENT = "instrument", "same card"
    PROFILE_EDIT = "profile_edit", "covered when its profile was edited"
