"""The reports' error codes: one class per code (docs/ERRORS.md is generated from them). Import only
apps.core.errors here."""

from __future__ import annotations

from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class ReportUnknown(NotFound):
    code = "report_unknown"
    when = "a report type that does not exist, or that the caller may not run (the two are not told apart)"


class ReportParamsInvalid(ValidationFailed):
    code = "report_params_invalid"
    when = "a report's parameters are missing, unknown or malformed, or its format is not one it offers (fields)"


class ReportNotPermitted(PermissionDenied):
    code = "report_not_permitted"
    when = "asking for, cancelling or downloading a run without the report's permission"


class ReportRunNotFound(NotFound):
    code = "report_run_not_found"
    when = "a run that does not exist or whose report the caller may not see (the two are not told apart)"


class ReportRunState(Conflict):
    code = "report_run_state"
    when = "cancelling a finished run, or downloading a run that has no file (not succeeded, or past retention)"


class ReportFileCorrupt(Conflict):
    code = "report_file_corrupt"
    when = "a run's stored file no longer matches the SHA-256 recorded when it was written (it is not served)"
