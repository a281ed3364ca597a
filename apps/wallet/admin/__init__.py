"""Finance's screens: the withdrawal queue, manual adjustments (maker-checker), a read-only ledger."""

from __future__ import annotations

from apps.wallet.admin.adjustments import AdjustmentAdmin
from apps.wallet.admin.ledger import LedgerTransactionAdmin, player_wallet_section
from apps.wallet.admin.withdrawals import WithdrawalAdmin

__all__ = ["AdjustmentAdmin", "LedgerTransactionAdmin", "WithdrawalAdmin", "player_wallet_section"]
