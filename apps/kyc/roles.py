"""Who may do what with KYC (granted by kyc/0004_roles).

KYC Officers hold no role-wide ``decide_review``: they decide the reviews assigned to them or to their team, through
the django-guardian grant ``apps.kyc.reviews.review_assign`` writes (and ``review_next``, when they take the next
review from the queue). A role-wide ``decide_review`` would open every review to every officer and make assignment
decorative. The lead's capability is ``view_all_reviews`` + ``assign_review`` + role-wide ``decide_review`` +
``approve_level_3``: the MLRO holds it (the regulation makes them answerable for due diligence, enhanced due
diligence above all, so the second officer of a level-3 approval is a lead). Administrators staff the queue
(they see every review and assign it) but never decide, and never see a document's file: a system administrator is
not an adjudicator, and the passports of every player are not theirs to read. Docs: docs/KYC.md, "Reviewing
documents"."""

VIEW = ("kyc.view_review", "kyc.view_kycprofile", "kyc.view_requirement")
OFFICER = (*VIEW, "kyc.view_document", "kyc.add_document", "kyc.claim_review")
LEAD = ("kyc.view_all_reviews", "kyc.assign_review", "kyc.decide_review", "kyc.approve_level_3")

KYC_PERMISSIONS = {
    "KYC Officer": OFFICER,
    "MLRO": (*OFFICER, *LEAD),
    "Administrator": (*VIEW, "kyc.view_all_reviews", "kyc.assign_review"),
}

# The verification vendors (granted by kyc/0005_vendor_roles): who may post decisions to the webhook and with which
# secret is system configuration, an Administrator's; their events are read-only for them.
VENDOR_PERMISSIONS = {
    "Administrator": ("kyc.view_vendor", "kyc.add_vendor", "kyc.change_vendor", "kyc.view_vendorevent"),
}
