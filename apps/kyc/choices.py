from django.db import models


class Level(models.IntegerChoices):
    UNVERIFIED = 0, "0 — unverified"
    IDENTITY = 1, "1 — identity and age verified"
    FULL = 2, "2 — full (identity and address)"
    ENHANCED = 3, "3 — enhanced due diligence (source of funds or wealth)"


class Trigger(models.TextChoices):
    """Why a requirement was raised."""

    REGISTRATION = "registration", "Registration (the jurisdiction verifies before deposit or play)"
    CDD_THRESHOLD = "cdd_threshold", "Deposits reached the due-diligence threshold"
    EDD_THRESHOLD = "edd_threshold", "Deposits reached the enhanced due-diligence threshold"
    WITHDRAWAL = "withdrawal", "First withdrawal"
    HIGH_RISK_COUNTRY = "high_risk_country", "Residence in a high-risk country"
    SCREENING_MATCH = "screening_match", "A PEP or sanctions match"
    STAFF = "staff", "Asked by staff"
    COMPLIANCE = "compliance", "Asked by compliance"


class PlatformTrigger(models.TextChoices):
    """The trigger as the platform (and so the player) is told it: what staff, compliance or screening asked for
    is only "asked by the operator" — naming compliance or a screening match could tip the player off."""

    REGISTRATION = "registration", "Registration"
    CDD_THRESHOLD = "cdd_threshold", "Deposits reached the due-diligence threshold"
    EDD_THRESHOLD = "edd_threshold", "Deposits reached the enhanced due-diligence threshold"
    WITHDRAWAL = "withdrawal", "First withdrawal"
    HIGH_RISK_COUNTRY = "high_risk_country", "Residence in a high-risk country"
    OPERATOR_REQUEST = "operator_request", "Asked by the operator"


def platform_trigger(trigger: str) -> str:
    return trigger if trigger in PlatformTrigger.values else PlatformTrigger.OPERATOR_REQUEST


class RequirementState(models.TextChoices):
    OPEN = "open", "Open"
    MET = "met", "Met"
    WAIVED = "waived", "Waived"


class DocumentType(models.TextChoices):
    PASSPORT = "passport", "Passport"
    NATIONAL_ID = "national_id", "National identity card"
    DRIVING_LICENCE = "driving_licence", "Driving licence"
    RESIDENCE_PERMIT = "residence_permit", "Residence permit"
    UTILITY_BILL = "utility_bill", "Utility bill"
    BANK_STATEMENT = "bank_statement", "Bank statement"
    PAYSLIP = "payslip", "Payslip"
    SOURCE_OF_FUNDS = "source_of_funds", "Source of funds declaration"
    SELFIE = "selfie", "Selfie"


# what each document proves, which is what the level is built from
IDENTITY_DOCUMENTS = frozenset(
    {DocumentType.PASSPORT, DocumentType.NATIONAL_ID, DocumentType.DRIVING_LICENCE, DocumentType.RESIDENCE_PERMIT}
)
ADDRESS_DOCUMENTS = frozenset({DocumentType.UTILITY_BILL, DocumentType.BANK_STATEMENT})
FUNDS_DOCUMENTS = frozenset({DocumentType.SOURCE_OF_FUNDS, DocumentType.PAYSLIP})
NUMBERED_DOCUMENTS = IDENTITY_DOCUMENTS  # carry a document number (encrypted, with a keyed hash for duplicates)


class DocumentState(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVISION_REQUESTED = "revision_requested", "Revision requested"
    EXPIRED = "expired", "Expired"


class RejectionReason(models.TextChoices):
    """Reason codes of a rejection, shown to the player by the platform."""

    UNREADABLE = "unreadable", "Unreadable or blurred"
    EXPIRED_DOCUMENT = "expired_document", "The document has expired"
    NAME_MISMATCH = "name_mismatch", "The name does not match the account"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch", "The birth date does not match the account"
    ADDRESS_MISMATCH = "address_mismatch", "The address does not match the account"
    INCOMPLETE = "incomplete", "Part of the document is missing"
    NOT_ACCEPTED = "not_accepted", "This kind of document is not accepted"
    TOO_OLD = "too_old", "Issued too long ago (proof of address: 3 months)"
    SUSPECTED_FORGERY = "suspected_forgery", "Suspected forgery"


class Source(models.TextChoices):
    API = "api", "Platform API"
    ADMIN = "admin", "Admin upload"
    VENDOR = "vendor", "Verification vendor"
    DEMO = "demo", "Demo data"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"
    REQUEST_REVISION = "request_revision", "Request a revision"
    EXPIRE = "expire", "Expire"
