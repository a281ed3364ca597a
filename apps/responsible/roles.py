"""Who may do what with player protection (granted by responsible/0002_roles, 0003 and 0005)."""

VIEW = (
    "responsible.view_exclusion",
    "responsible.view_exclusioncorrection",
    "responsible.view_limit",
    "responsible.view_limitchange",
    "responsible.view_flag",
    "responsible.view_interaction",
    "responsible.view_registercheck",
    "responsible.view_identitychangerequest",
)
RESPONSIBLE_PERMISSIONS = {
    # support staff run responsible-gambling reviews: they record interactions, impose and propose lifts
    "Support Agent": (
        *VIEW,
        "responsible.add_interaction",
        "responsible.exclude_player",
        "responsible.request_lift",
        "responsible.set_operator_limit",
        "responsible.correct_exclusion",
    ),
    "AML Analyst": (*VIEW, "responsible.exclude_player", "responsible.decide_lift", "responsible.correct_exclusion"),
    "MLRO": (
        *VIEW,
        "responsible.exclude_player",
        "responsible.decide_lift",
        "responsible.correct_exclusion",
        "responsible.decide_identity_change",
    ),
    # KYC Officers correct identities; a second one (or an MLRO, an Administrator) applies a held edit
    "KYC Officer": (*VIEW, "responsible.decide_identity_change"),
    "Finance Officer": VIEW,
    "Administrator": (
        *VIEW,
        "responsible.decide_lift",
        "responsible.correct_exclusion",
        "responsible.decide_identity_change",
    ),
}
