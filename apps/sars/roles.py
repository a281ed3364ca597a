"""Who may see and file suspicious activity reports (granted by sars/0002_roles).

The MLRO only: the regulations make the nominated officer the one who decides whether to report and who files;
the second person of a SAR's approval is a second MLRO (or a deputy holding the role). AML Analysts investigate
the case but do not see whether a SAR was filed on it: a SAR's existence is the most sensitive fact in the
system, and the analyst's work does not need it (they escalate to the MLRO, who decides). Every other role holds
nothing of this app, so no list, count, search or page of it answers them. Docs: docs/SARS.md."""

VIEW = ("sars.view_sar",)
MLRO = (*VIEW, "sars.draft_sar", "sars.approve_sar")

SARS_PERMISSIONS = {"MLRO": MLRO}
