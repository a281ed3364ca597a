"""The screening app's error codes: one class per code (docs/ERRORS.md is generated from them).

Import only apps.core.errors here: services, commands and the admin import this module."""

from __future__ import annotations

from apps.core.errors import Conflict, PermissionDenied, ValidationFailed


class ListFileInvalid(ValidationFailed):
    code = "list_file_invalid"
    when = (
        "a watchlist file that cannot be read as its format (encoding, columns, XML, a missing name or id, a "
        "duplicate id, an unreadable date): the message names the line and the reason; nothing is stored"
    )

    def __init__(self, reason: str, *, line: int | None = None, file_name: str = "") -> None:
        self.line = line
        self.reason = reason
        where = f"{file_name or 'file'}, line {line}: " if line is not None else f"{file_name or 'file'}: "
        super().__init__(where + reason, fields={"line": line, "reason": reason})


class ListFormatUnknown(ValidationFailed):
    code = "list_format_unknown"
    when = "an import in a format other than ofac_sdn, un_xml or csv"


class ListMissing(Conflict):
    code = "screening_list_missing"
    status = 503
    when = (
        "screening with no imported watchlist: a screen that cannot run fails closed (registration refuses rather "
        "than letting an unscreened player in)"
    )


class HitNotOpen(Conflict):
    code = "hit_not_open"
    when = "a review of a screening hit that was already confirmed, marked a false positive or withdrawn"


class ScreenFileInvalid(ValidationFailed):
    code = "screen_file_invalid"
    when = (
        "a customer file for batch screening without a `name` column, or with a `birth_date` that is not a date "
        "(YYYY-MM-DD) or a year (YYYY): the message names the line"
    )


class HitReviewNotPermitted(PermissionDenied):
    code = "hit_review_not_permitted"
    when = "a screening hit review by someone without `screening.review_screeninghit` (compliance roles only)"


class ReviewNoteRequired(ValidationFailed):
    code = "review_note_required"
    when = "a screening hit confirmed or marked a false positive without a note saying why"


class ReviewDecisionUnknown(ValidationFailed):
    code = "review_decision_unknown"
    when = "a screening hit review whose decision is neither `confirmed` nor `false_positive`"
