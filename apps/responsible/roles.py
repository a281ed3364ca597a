"""Who may do what with player protection (granted by responsible/0002_roles)."""

VIEW = (
    "responsible.view_exclusion",
    "responsible.view_exclusioncorrection",
    "responsible.view_limit",
    "responsible.view_limitchange",
    "responsible.view_flag",
    "responsible.view_interaction",
    "responsible.view_registercheck",
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
    "MLRO": (*VIEW, "responsible.exclude_player", "responsible.decide_lift", "responsible.correct_exclusion"),
    "KYC Officer": VIEW,
    "Finance Officer": VIEW,
    "Administrator": (*VIEW, "responsible.decide_lift", "responsible.correct_exclusion"),
}
