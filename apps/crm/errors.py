"""The CRM app's error codes: one class per code (docs/ERRORS.md is generated from them). Import only
apps.core.errors here."""

from __future__ import annotations

from apps.core.errors import Conflict, PermissionDenied, ValidationFailed


class SegmentCriteriaInvalid(ValidationFailed):
    code = "segment_criteria_invalid"
    when = (
        "a segment's criteria are not an object of known criteria, a criterion's value is wrong (the fields name "
        "each one), or money criteria name no segment currency"
    )


class SegmentFieldInvalid(ValidationFailed):
    code = "segment_field_invalid"
    when = "a segment's name, description, kind or currency is missing or wrong (the fields say which)"


class SegmentNameTaken(Conflict):
    code = "segment_name_taken"
    when = "another segment already has this name"


class SegmentNotPermitted(PermissionDenied):
    code = "segment_not_permitted"
    when = "creating, changing, snapshotting or exporting a segment without the crm permission for it"


class SegmentNotSnapshotted(Conflict):
    code = "segment_not_snapshotted"
    when = "exporting a static segment that has never been snapshotted (its members are its snapshot)"


class ExportChannelInvalid(ValidationFailed):
    code = "export_channel_invalid"
    when = "a marketing export for a channel other than email, sms, phone or post"


class CampaignNotPermitted(PermissionDenied):
    code = "campaign_not_permitted"
    when = "creating, starting or cancelling a campaign without the crm permission for it"


class CampaignInvalid(ValidationFailed):
    code = "campaign_invalid"
    when = (
        "a campaign's name, window, mode, segment or template is wrong: the window ends before it starts or "
        "outside the template's validity, the template is not published, its currency is not the segment's"
    )


class CampaignWrongState(Conflict):
    code = "campaign_state"
    when = "starting a campaign that is not a draft, outside its window, or cancelling one that has ended"
