"""Who may do what with watchlists and screening hits (granted by screening/0002_roles).

The tipping-off wall holds here too: only compliance roles see that a player was screened at all, so Support
Agents, CRM Managers, Finance Officers and KYC Officers hold no ``screening.*`` permission. AML Analysts see the
lists and the hits, review hits (confirm, or mark a false positive) and screen a customer file; the MLRO also
imports list files (a new snapshot re-screens the player base: an MLRO's decision). Docs: docs/SCREENING.md."""

VIEW = (
    "screening.view_watchlist",
    "screening.view_listsnapshot",
    "screening.view_listentry",
    "screening.view_screeninghit",
)
ANALYST = (*VIEW, "screening.review_screeninghit", "screening.screen_file")
SCREENING_PERMISSIONS = {
    "AML Analyst": ANALYST,
    "MLRO": (*ANALYST, "screening.import_list"),
}
