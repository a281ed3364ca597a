"""Who may configure and give bonuses (granted by bonuses/0002_roles). Docs: docs/BONUSES.md.

CRM Managers own the bonus screens: templates (a big budget is published by a second CRM Manager), manual awards
and cancellations. Support Agents see a player's bonuses and cancel one at the player's request; AML Analysts and
the MLRO see them (bonus abuse is theirs to investigate); Finance Officers see templates and bonuses (bonus cost).
Administrators run the system, not the marketing: nothing here."""

PLAYER_BONUSES = ("bonuses.view_playerbonus",)
TEMPLATES = ("bonuses.view_bonustemplate", "bonuses.view_templatechange")
CRM = (
    *TEMPLATES,
    *PLAYER_BONUSES,
    "bonuses.add_bonustemplate",
    "bonuses.change_bonustemplate",
    "bonuses.publish_bonustemplate",
    "bonuses.approve_bonustemplate",
    "bonuses.award_playerbonus",
    "bonuses.cancel_playerbonus",
)

BONUSES_PERMISSIONS = {
    "CRM Manager": CRM,
    "Support Agent": (*PLAYER_BONUSES, "bonuses.cancel_playerbonus"),
    "AML Analyst": PLAYER_BONUSES,
    "MLRO": PLAYER_BONUSES,
    "Finance Officer": (*TEMPLATES, *PLAYER_BONUSES),
}
