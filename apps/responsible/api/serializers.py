"""The responsible-gambling API's request bodies and response shapes.

The request bodies are ``CommandInput``s: each documents its body and reads it (``parse``). They read only the
body's shape; the values (a limit's kind, period and amount, a time-out's hours, a term) are checked by the
services against the player's jurisdiction, the one set of rules the API and the admin share, with their own
codes (``limit_invalid``, ``term_not_allowed``). The output serializers describe the plain dicts the views build
(``change_dict``, ``exclusion_dict``), for the OpenAPI schema only.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.api.commands import CommandInput, require_object
from apps.responsible.choices import ChangeStatus, ExclusionKind, LimitKind, LimitPeriod, LimitSource
from apps.responsible.errors import LimitInvalid, TermNotAllowed


class LimitInput(CommandInput):
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    period = serializers.ChoiceField(
        choices=LimitPeriod.choices, help_text="day, week or month; session for a session limit (and only then)"
    )
    value = serializers.CharField(
        allow_null=True,
        max_length=32,
        help_text='A decimal string in the player\'s currency ("100.00"), whole minutes for a session limit, '
        "or null to remove the limit",
    )

    @classmethod
    def parse(cls, raw: Any) -> dict[str, Any]:
        body = require_object(raw)
        if "value" not in body:  # null is a value: it removes the limit
            raise LimitInvalid("A value is required.", fields={"value": ["Required."]})
        return {"kind": str(body.get("kind", "")), "period": str(body.get("period", "")), "value": body["value"]}


class TimeOutInput(CommandInput):
    hours = serializers.IntegerField(
        min_value=1, help_text="Within the jurisdiction's range (e.g. 24 to 1008 in GB); 400 term_not_allowed outside"
    )

    @classmethod
    def parse(cls, raw: Any) -> dict[str, Any]:
        hours = require_object(raw).get("hours")
        if not isinstance(hours, int) or isinstance(hours, bool):
            raise TermNotAllowed("hours is a whole number.", fields={"hours": ["An integer."]})
        return {"hours": hours}


class SelfExclusionInput(CommandInput):
    term = serializers.CharField(
        max_length=20,
        help_text="One of the terms the player's jurisdiction offers (self_exclusion_terms in the overview), "
        "e.g. 6m, 1y, 5y, permanent",
    )

    @classmethod
    def parse(cls, raw: Any) -> dict[str, Any]:
        return {"term": str(require_object(raw).get("term") or "")}


class ChangeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    period = serializers.ChoiceField(choices=LimitPeriod.choices)
    # "from" and "to" are Python keywords: declared below
    status = serializers.ChoiceField(choices=ChangeStatus.choices)
    effective_at = serializers.DateTimeField()
    confirm_by = serializers.DateTimeField(allow_null=True)


ChangeOutput._declared_fields["from"] = serializers.CharField(allow_null=True, help_text="The value before")
ChangeOutput._declared_fields["to"] = serializers.CharField(allow_null=True, help_text="The value after (null: none)")


class ChangeEnvelope(serializers.Serializer):
    change = ChangeOutput()


class ExclusionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ExclusionKind.choices)
    term = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null: permanent")
    reopens_at = serializers.DateTimeField(allow_null=True)
    return_requested_at = serializers.DateTimeField(allow_null=True)


class TimeOutEnvelope(serializers.Serializer):
    time_out = ExclusionOutput()


class SelfExclusionEnvelope(serializers.Serializer):
    self_exclusion = ExclusionOutput()


class LimitUsageOutput(serializers.Serializer):
    """A limit that applies, with its usage (money limits) or its length (session limits)."""

    kind = serializers.CharField(help_text="deposit, loss, wager, session (net_deposit for some jurisdiction caps)")
    period = serializers.CharField()
    source = serializers.ChoiceField(choices=LimitSource.choices)  # type: ignore[assignment]
    limit = serializers.CharField(help_text='An amount ("100.00") or minutes ("60 min")')
    net = serializers.BooleanField(required=False)
    currency = serializers.CharField(required=False)
    used = serializers.CharField(required=False)
    remaining = serializers.CharField(required=False)
    percent_used = serializers.IntegerField(required=False)


class OverviewOutput(serializers.Serializer):
    limits = LimitUsageOutput(many=True)
    pending_changes = ChangeOutput(many=True)
    time_out = ExclusionOutput(allow_null=True)
    self_exclusion = ExclusionOutput(allow_null=True)
    reality_check_minutes = serializers.IntegerField(allow_null=True)
    self_exclusion_terms = serializers.ListField(child=serializers.CharField())
