"""The SAR app's error codes: one class per code (docs/ERRORS.md is generated from them).

Messages never say more than the caller may know: whoever lacks ``sars.view_sar`` is told "not found" (a SAR
that exists and one that does not are not told apart: the tipping-off wall). Import only apps.core.errors here."""

from __future__ import annotations

from apps.core.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable, ValidationFailed


class SarNotFound(NotFound):
    code = "sar_not_found"
    when = "a SAR that does not exist or that the caller may not see (the two are not told apart)"


class SarNotPermitted(PermissionDenied):
    code = "sar_not_permitted"
    when = "drafting, editing or filing a SAR without sars.draft_sar, or filing without sars.file_sar"


class SarCaseNotFound(NotFound):
    code = "sar_case_not_found"
    when = "drafting a SAR from a case that does not exist or that the MLRO may not see"


class SarCaseWithoutPlayer(ValidationFailed):
    code = "sar_case_without_player"
    when = "drafting a SAR from a case that names no player: a report needs its subject"


class SarFieldInvalid(ValidationFailed):
    code = "sar_field_invalid"
    when = (
        "a SAR's report code, reason, action, indicators, occupation or transactions are missing or wrong (the "
        "fields say which): an STR needs transactions linked to its case, every text has a length limit"
    )


class SarNotDraft(Conflict):
    code = "sar_not_draft"
    when = "editing a SAR, or asking for its approval, once it was submitted (reopen an export that failed instead)"


class SarNotExportable(Conflict):
    code = "sar_not_exportable"
    when = "exporting a SAR that is not approved (or whose export already succeeded)"


class SarNotReady(Conflict):
    code = "sar_not_ready"
    when = "downloading or filing a SAR without a valid export, or filing one twice"


class SarNotFiled(Conflict):
    code = "sar_not_filed"
    when = "correcting a SAR that was not filed: edit the draft instead, or reopen its failed export"


class SarFilingInvalid(ValidationFailed):
    code = "sar_filing_invalid"
    when = "filing without the FIU's reference, with a date in the future or before the export, or a bad reference"


class GoamlSchemaUnavailable(ServiceUnavailable):
    code = "goaml_schema_unavailable"
    domain = "sars"
    when = (
        "GOAML_SCHEMA_PATH is not set, or the file it names cannot be read or is not an XML schema: no export is "
        "marked ready (the SAR page shows why)"
    )
