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


class CloseNotMonthEnd(ValidationFailed):
    code = "close_not_month_end"
    when = "taking a month-end close of a day that is not the last day of its month"


class CloseDayNotEnded(Conflict):
    code = "close_day_not_ended"
    when = "taking a month-end close before the day has ended on every clock in use (and the margin has passed)"


class CloseExists(Conflict):
    code = "close_exists"
    when = "taking a month-end close of a day already closed, without asking to retake it"
