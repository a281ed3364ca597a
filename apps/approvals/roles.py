"""Who sees the Approvals inbox (granted by approvals/0002_roles). Deciding is per kind, with the owning app's
permission (wallet.approve_withdrawal, wallet.approve_adjustment, responsible.decide_lift,
responsible.correct_exclusion), re-checked by the service at decision time; the inbox shows each member the kinds
they ask for or decide, and their own requests."""

APPROVALS_PERMISSIONS = {
    "Finance Officer": ("approvals.view_approval",),  # withdrawals, adjustments
    "AML Analyst": ("approvals.view_approval",),  # lifts, corrections
    "MLRO": ("approvals.view_approval",),
    "Support Agent": ("approvals.view_approval",),  # they ask for lifts and corrections, and apply corrections
    "Administrator": ("approvals.view_approval",),
}
