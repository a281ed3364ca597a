"""The KYC API's request bodies and response shapes.

The upload's body is multipart (``DocumentUploadInput``: a DRF serializer, since a file is not a field a
``CommandInput`` compiles); the document's details are checked again by ``documents.document_upload`` with its own
codes (``document_invalid``, ``document_expired``). The output serializers describe the plain dicts the views build,
for the OpenAPI schema only. A document's number and file are never in any response.
"""

from __future__ import annotations

from rest_framework import serializers

from apps.kyc.choices import DocumentState, DocumentType, Level, PlatformTrigger, RejectionReason
from apps.players.api.serializers import TextField
from apps.players.choices import Action


class DocumentUploadInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="JPEG, PNG or PDF, at most KYC_MAX_UPLOAD_BYTES (10 MB). The content decides the type, never the "
        "name or the part's Content-Type; the name is not kept."
    )
    type = serializers.ChoiceField(choices=DocumentType.choices)
    issuing_country = serializers.CharField(
        required=False, allow_blank=True, max_length=2, help_text="ISO 3166-1 alpha-2 (e.g. GB)"
    )
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="The expiry date printed on the document (past: document_expired)"
    )
    number = TextField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The document number (identity documents only); stored encrypted, never answered back",
    )


class DocumentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=DocumentType.choices)
    state = serializers.ChoiceField(choices=DocumentState.choices)
    issuing_country = serializers.CharField(help_text="ISO 3166-1 alpha-2, or empty")
    expires_on = serializers.DateField(allow_null=True)
    uploaded_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.ChoiceField(
        choices=RejectionReason.choices, allow_null=True, help_text="The reason code of a rejection"
    )
    message = serializers.CharField(
        allow_null=True,
        help_text="What to tell the player: why it was rejected, what to send again, or that it expired",
    )


class DocumentEnvelope(serializers.Serializer):
    document = DocumentOutput()


class RequirementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    level = serializers.ChoiceField(choices=Level.choices, help_text="The level the player must reach")
    trigger = serializers.ChoiceField(choices=PlatformTrigger.choices)
    due_at = serializers.DateTimeField()
    overdue = serializers.BooleanField()
    restricts = serializers.ListField(
        child=serializers.ChoiceField(choices=Action.choices), help_text="Refused now, until the level is reached"
    )
    restricts_when_overdue = serializers.ListField(
        child=serializers.ChoiceField(choices=Action.choices), help_text="Refused too once due_at has passed"
    )


class KycOutput(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    requirements = RequirementOutput(many=True, help_text="The open requirements, soonest due first")
    documents = DocumentOutput(many=True, help_text="The latest 100 documents, newest first")


class VendorEventInput(serializers.Serializer):
    event_id = serializers.CharField(max_length=100, help_text="The vendor's own id of this event: sent once")
    document = serializers.IntegerField(min_value=1, help_text="Our document's id (the upload's answer)")
    decision = serializers.ChoiceField(choices=("approve", "reject", "request_revision"))
    reason_code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=24,
        help_text="A rejection's reason code (one of the rejection reasons; anything else is not_accepted)",
    )
    message = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="What the player is told"
    )


class VendorEventOutput(serializers.Serializer):
    event_id = serializers.CharField()
    document = serializers.IntegerField()
    applied = serializers.BooleanField(help_text="false: the document was no longer pending, nothing changed")
    outcome = serializers.CharField(help_text="applied:<state>, not_pending, or needs_officers (source of funds)")
    state = serializers.ChoiceField(choices=DocumentState.choices, help_text="The document's state now")
