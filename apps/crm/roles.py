"""What the CRM Manager may do with segments (granted by crm/0002_roles): see, build and change them, take
their snapshots, and download a segment's marketing export; and with campaigns (crm/0004_campaign_roles): see,
create, start and cancel them. No other role holds anything of this app: a marketing list is personal data used
for direct marketing, and only the CRM team sends campaigns."""

from apps.staff.roles import CRM_MANAGER

SEGMENTS = ("crm.view_segment", "crm.add_segment", "crm.change_segment")
EXPORT = ("crm.export_segment",)
CAMPAIGNS = ("crm.view_campaign", "crm.add_campaign", "crm.run_campaign")

CRM_PERMISSIONS = {CRM_MANAGER: (*SEGMENTS, *EXPORT, *CAMPAIGNS)}
