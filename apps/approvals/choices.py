from django.db import models


class ApprovalState(models.TextChoices):
    PENDING = "pending", "Waiting for a second person"
    BELOW_THRESHOLD = "below_threshold", "Below the threshold: applied without a second person"
    APPROVED = "approved", "Approved and applied"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled (the target was settled otherwise)"
    EXPIRED = "expired", "Expired: nobody decided in time"


# the states in which nobody will decide any more
DECIDED = (
    ApprovalState.APPROVED,
    ApprovalState.REJECTED,
    ApprovalState.CANCELLED,
    ApprovalState.EXPIRED,
    ApprovalState.BELOW_THRESHOLD,
)


class RollingScope(models.TextChoices):
    """Whose earlier requests count together with a new one against the threshold (within the window)."""

    MAKER_AND_PLAYER = "maker_player", "the same maker for the same player"
    PLAYER = "player", "the same player, whoever asked"
