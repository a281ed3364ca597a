from django.db import models


class RuleKind(models.TextChoices):
    """What a rule looks at. Each kind's typed parameters and evaluation: apps/compliance/kinds/."""

    AMOUNT_WINDOW = "amount_window", "Amount over a window (sum of deposits)"
    COUNT_WINDOW = "count_window", "Count over a window (number of deposits)"
    STRUCTURING = "structuring", "Structuring (several deposits just under a threshold)"
    LITTLE_PLAY = "little_play", "Deposit, little play, withdrawal"
    MANY_INSTRUMENTS = "many_instruments", "Many payment instruments in a window"
    SPIKE = "spike", "Deposit spike against the 30-day average"
    COUNTRY_MISMATCH = "country_mismatch", "Country mismatch or high-risk country"
    SHARED_IDENTIFIER = "shared_identifier", "Device, IP or instrument shared across players"
    RAPID_IN_OUT = "rapid_in_out", "Rapid in and out (deposit then withdrawal within hours)"
    BONUS_ABUSE = "bonus_abuse", "Bonus-abuse flags from the bonus engine"


class VersionState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Waiting for a second person to publish"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class VersionMode(models.TextChoices):
    LIVE = "live", "Live (raises alerts)"
    SHADOW = "shadow", "Shadow (hits recorded, no alerts)"


class CaseType(models.TextChoices):
    AML = "aml", "Anti-money laundering"
    FRAUD = "fraud", "Fraud"
    RESPONSIBLE_GAMBLING = "responsible_gambling", "Responsible gambling"
    KYC_EDD = "kyc_edd", "Enhanced due diligence (KYC)"
    SANCTIONS = "sanctions", "Sanctions"


class Priority(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


PRIORITY_ORDER = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


class CaseState(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING = "waiting", "Waiting for information"
    PENDING_APPROVAL = "pending_approval", "Waiting for a second person to close"
    ESCALATED = "escalated", "Escalated to the MLRO"
    CLOSED = "closed", "Closed"


OPEN_STATES = tuple(s for s in CaseState.values if s != CaseState.CLOSED)


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    REFUTED = "refuted", "Refuted"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"


class CaseSource(models.TextChoices):
    ALERT = "alert", "AML alert"
    KYC = "kyc", "KYC (enhanced due diligence)"
    RESPONSIBLE_GAMBLING = "responsible_gambling", "Responsible gambling"
    BONUS_ABUSE = "bonus_abuse", "Bonus abuse"
    SANCTIONS = "sanctions", "Sanctions screening"
    MANUAL = "manual", "Opened by hand"


class WaitingOn(models.TextChoices):
    PLAYER = "player", "The player"
    TEAM = "team", "Another team"


class CaseEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    ALERT_LINKED = "alert_linked", "Alert linked"
    ASSIGNED = "assigned", "Assigned"
    STATE = "state", "State changed"
    NOTE = "note", "Note"
    ATTACHMENT = "attachment", "Attachment"
    TRANSACTION_LINKED = "transaction_linked", "Transaction linked"
    PLAYER_LINKED = "player_linked", "Player linked"
    ACTION = "action", "Action taken"
    SLA = "sla", "SLA"
    ESCALATED = "escalated", "Escalated"
    APPROVAL = "approval", "Second approval"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


class CaseAction(models.TextChoices):
    """What a case can do through the owning services (apps/compliance/actions.py)."""

    HOLD_WITHDRAWALS = "hold_withdrawals", "Hold the player's open withdrawals"
    RESTRICT_ACCOUNT = "restrict_account", "Restrict the account (suspend)"
    REQUIRE_EDD = "require_edd", "Require enhanced due diligence (KYC level 3)"
    OPERATOR_EXCLUSION = "operator_exclusion", "Impose an operator exclusion"
