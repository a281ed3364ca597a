"""API scopes. A client is granted a set of them; each endpoint names the scopes it needs."""

from __future__ import annotations

from django.db import models


class Scope(models.TextChoices):
    PLAYERS_READ = "players:read", "Read players and eligibility"
    PLAYERS_WRITE = "players:write", "Register and update players"
    WALLET_READ = "wallet:read", "Read balances and transactions"
    # wallet:write was split (least privilege): a game aggregator's key must not be able to mint deposits
    WALLET_PAYMENTS = "wallet:payments", "Deposits and withdrawals (payment pages)"
    WALLET_GAME = "wallet:game", "Game postings: bets, wins and rollbacks (game servers, aggregators)"
    RESPONSIBLE_WRITE = "responsible:write", "Set limits, time-outs and self-exclusions"
    KYC_WRITE = "kyc:write", "Upload KYC documents"
    BONUSES_WRITE = "bonuses:write", "Claim and award bonuses"


ALL_SCOPES = tuple(Scope.values)
# Scopes that no longer exist, and what replaced them (the migration converted existing keys).
RETIRED_SCOPES = {"wallet:write": ("wallet:payments", "wallet:game")}
