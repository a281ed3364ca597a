"""What each role may do with the wallet (granted by wallet/0003_roles; entries by wallet/0009_view_entry)."""

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
    "Support Agent": ("wallet.view_ledgertransaction", "wallet.view_entry", "wallet.view_withdrawal"),
    "Administrator": VIEW,
}
