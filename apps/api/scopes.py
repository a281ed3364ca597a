"""API scopes. A client is granted a set of them; each endpoint names the scopes it needs."""

from __future__ import annotations

from django.db import models


class Scope(models.TextChoices):
    PLAYERS_READ = "players:read", "Read players and eligibility"
    PLAYERS_WRITE = "players:write", "Register and update players"
    WALLET_READ = "wallet:read", "Read balances and transactions"
    WALLET_WRITE = "wallet:write", "Post wallet transactions"
    RESPONSIBLE_WRITE = "responsible:write", "Set limits, time-outs and self-exclusions"
    KYC_WRITE = "kyc:write", "Upload KYC documents"
    BONUSES_WRITE = "bonuses:write", "Claim and award bonuses"


ALL_SCOPES = tuple(Scope.values)
