from django.db import models


class ActorType(models.TextChoices):
    STAFF = "staff", "Staff member"
    API_CLIENT = "api_client", "API client"
    PLAYER = "player", "Player"
    SYSTEM = "system", "System"
