"""The KYC Officers' screens: the review queue, the review page with its decisions, the document file view, the
admin upload and the player page's KYC section. Every write goes through apps.kyc's services."""

from __future__ import annotations

from apps.kyc.admin.player_section import player_kyc_section
from apps.kyc.admin.queue import ReviewAdmin

__all__ = ["ReviewAdmin", "player_kyc_section"]
