"""The KYC app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, views and forms of every layer import this module."""

from __future__ import annotations

from apps.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, ValidationFailed


class FileTooLarge(ValidationFailed):
    code = "file_too_large"
    status = 413
    when = "an uploaded document is larger than KYC_MAX_UPLOAD_BYTES (10 MB by default); nothing is kept"


class FileTypeNotAllowed(ValidationFailed):
    code = "file_type_not_allowed"
    status = 415
    when = "an uploaded document's content is not JPEG, PNG or PDF (sniffed; the name and declared type are ignored)"


class FileCorrupt(ValidationFailed):
    code = "file_corrupt"
    when = (
        "an uploaded document cannot be decoded, is a decompression bomb, or is a PDF that is encrypted, carries "
        "JavaScript or cannot be parsed; nothing is kept"
    )


class LevelInvalid(ValidationFailed):
    code = "kyc_level_invalid"
    when = "a verification level outside 0 to 3 (a requirement: 1 to 3)"


class DocumentInvalid(ValidationFailed):
    code = "document_invalid"
    when = "a document type, issuing country, expiry date or number the document cannot have (fields say which)"


class DocumentExpired(ValidationFailed):
    code = "document_expired"
    when = "a document uploaded or approved after its expiry date"


class DocumentNotPending(Conflict):
    code = "document_not_pending"
    when = "a decision on a document that was already decided (or is waiting for a second officer)"


class RejectionReasonRequired(ValidationFailed):
    code = "rejection_reason_required"
    when = "a rejection without one of the rejection reason codes"


class RevisionMessageRequired(ValidationFailed):
    code = "revision_message_required"
    when = "a revision request without the message that tells the player what to send again"


class ReviewNotPermitted(PermissionDenied):
    code = "review_not_permitted"
    when = "a KYC decision by someone who may not decide this review (not assigned to them or their team)"


# --- the vendor webhook (apps/kyc/vendors.py) ---------------------------------------------------------------


class SignatureInvalid(ApplicationError):
    code = "signature_invalid"
    status = 401
    when = (
        "a vendor event without an `X-Pitboss-Signature` header, or whose signature does not match the body under "
        "the vendor's secret (a tampered body included)"
    )


class SignatureStale(ApplicationError):
    code = "signature_stale"
    status = 401
    when = "a vendor event signed at a time further from now than the vendor's tolerance (300 s by default)"


class VendorNotFound(NotFound):
    code = "vendor_not_found"
    when = "a vendor event for a vendor slug that does not exist or is not active"


class VendorEventReplayed(Conflict):
    code = "event_replayed"
    when = "a vendor event whose `event_id` this vendor already sent: it was recorded once and is not applied again"


class VendorEventUnparsable(ValidationFailed):
    code = "parse_error"  # the API parser's code (apps/api/errors.py): the webhook reads its raw body itself
    domain = "api"
    when = "the body is not JSON, nests deeper than 32 levels, or holds a NUL"


class DocumentNotFound(NotFound):
    code = "document_not_found"
    when = "a vendor event naming a document id that does not exist; nothing is recorded"


class ReviewAssignNotPermitted(PermissionDenied):
    code = "review_assign_not_permitted"
    when = "assigning a KYC review without kyc.assign_review, or taking the next one without kyc.claim_review"


class ReviewAssigneeInvalid(ValidationFailed):
    code = "review_assignee_invalid"
    when = "a KYC review assigned to someone who cannot review documents (inactive, or without kyc.view_document)"


class ReviewClosed(Conflict):
    code = "review_closed"
    when = "assigning a KYC review that is already closed"
