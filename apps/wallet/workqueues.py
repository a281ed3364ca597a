"""The wallet's work queues on the start page (apps.core.workqueues), registered from ``WalletConfig.ready``.

Counts are served by wallet_withdrawal_queue_idx (status, id) and by the approvals' partial index on pending
requests.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.approvals import selectors as approvals_selectors
from apps.approvals.models import Approval
from apps.core.workqueues import register_queue
from apps.wallet.choices import WithdrawalStatus
from apps.wallet.models import Withdrawal

WITHDRAWALS = "admin:wallet_withdrawal_changelist"
SECTION = "Payments"


def withdrawals_to_approve(user: Any) -> QuerySet[Withdrawal]:
    """Pending withdrawals nobody has approved yet."""
    return Withdrawal.objects.filter(status=WithdrawalStatus.PENDING, first_approver__isnull=True)


def withdrawals_second_approval(user: Any) -> QuerySet[Withdrawal]:
    """Pending withdrawals with a first approval by someone else: this member may give the second."""
    return Withdrawal.objects.filter(status=WithdrawalStatus.PENDING, first_approver__isnull=False).exclude(
        first_approver_id=user.pk
    )


def adjustments_to_approve(user: Any) -> QuerySet[Approval]:
    from apps.wallet.services import ADJUSTMENT_KIND

    return approvals_selectors.pending_to_decide(user, ADJUSTMENT_KIND)


def register() -> None:
    from apps.wallet.services import ADJUSTMENT_KIND

    register_queue(
        "wallet.withdrawals_to_approve",
        "Withdrawals to approve",
        count=withdrawals_to_approve,
        url=f"{WITHDRAWALS}?status=pending&first_approver__isnull=True",
        permission="wallet.approve_withdrawal",
        section=SECTION,
        help="Requested by players, not approved by anyone yet.",
        order=10,
    )
    register_queue(
        "wallet.withdrawals_second_approval",
        "Withdrawals waiting for a second approver",
        count=withdrawals_second_approval,
        url=f"{WITHDRAWALS}?status=pending&first_approver__isnull=False",
        permission="wallet.approve_withdrawal",
        section=SECTION,
        help="Above the threshold and approved once by a colleague: you give the second approval.",
        order=11,
    )
    register_queue(
        "wallet.adjustments_to_approve",
        "Adjustments to approve",
        count=adjustments_to_approve,
        url=approvals_selectors.inbox_url(ADJUSTMENT_KIND),
        permission="wallet.approve_adjustment",
        section=SECTION,
        help="Manual credits and debits asked for by a colleague.",
        order=12,
    )
