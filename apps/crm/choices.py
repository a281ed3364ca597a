from __future__ import annotations

from django.db import models


class SegmentKind(models.TextChoices):
    STATIC = "static", "Static (members as last snapshotted)"
    DYNAMIC = "dynamic", "Dynamic (refreshed nightly)"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PHONE = "phone", "Phone"
    POST = "post", "Post"


class CampaignMode(models.TextChoices):
    AWARD = "award", "Award at once (active, money in the bonus account)"
    OFFER = "offer", "Offer (the player claims it)"


class CampaignState(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
