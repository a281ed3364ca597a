"""What each role may do with the wallet (granted by wallet/0003_roles; entries by wallet/0009_view_entry).

Support Agents see no money (staff/0006 took their ledger and withdrawal views back): a withdrawal on hold, a
reversal or a pattern of deposits is what an AML review looks like, and telling a player of one is tipping off.
A player asking about a payout is answered by Finance."""

VIEW = (
    "wallet.view_ledgertransaction",
    "wallet.view_entry",
    "wallet.view_account",
    "wallet.view_withdrawal",
    "wallet.view_adjustment",
)
WALLET_PERMISSIONS = {
    "Finance Officer": (
        *VIEW,
        "wallet.approve_withdrawal",
        "wallet.hold_withdrawal",
        "wallet.add_adjustment",
        "wallet.approve_adjustment",
    ),
    "MLRO": (*VIEW, "wallet.hold_withdrawal"),
    "AML Analyst": (*VIEW, "wallet.hold_withdrawal"),
    "Administrator": VIEW,
}
