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
