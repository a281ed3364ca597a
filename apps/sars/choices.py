from django.db import models


class ReportCode(models.TextChoices):
    """The goAML report codes an operator files (``report_type`` in the schema). A SAR reports an activity (its
    parties, no transaction); an STR reports transactions, each with its from and to side."""

    SAR = "SAR", "SAR: suspicious activity (the parties)"
    STR = "STR", "STR: suspicious transactions"


class SarState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Waiting for a second person"
    APPROVED = "approved", "Approved: being exported"
    EXPORT_FAILED = "export_failed", "Export failed validation"
    READY = "ready", "Ready to file"
    FILED = "filed", "Filed with the FIU"


# a draft's content may change only in these states (the service checks, the database's trigger backs it)
EDITABLE = (SarState.DRAFT,)
# the states in which an export may run (a retry after the operator fixed the data or the schema)
EXPORTABLE = (SarState.APPROVED, SarState.EXPORT_FAILED)
