"""Who may configure and give bonuses (granted by bonuses/0002_roles and 0004_flag_roles). Docs: docs/BONUSES.md.

CRM Managers own the bonus screens: templates (a big budget is published by a second CRM Manager), manual awards
and cancellations. Support Agents see a player's bonuses and cancel one at the player's request; AML Analysts and
the MLRO see them and the bonus-abuse flags (abuse is theirs to investigate, with the CRM Managers); Finance
Officers see templates and bonuses (bonus cost). Administrators run the system, not the marketing: nothing here."""

PLAYER_BONUSES = ("bonuses.view_playerbonus",)
FLAGS = ("bonuses.view_bonusflag",)
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
    *FLAGS,
)

BONUSES_PERMISSIONS = {
    "CRM Manager": CRM,
    "Support Agent": (*PLAYER_BONUSES, "bonuses.cancel_playerbonus"),
    "AML Analyst": (*PLAYER_BONUSES, *FLAGS),
    "MLRO": (*PLAYER_BONUSES, *FLAGS),
    "Finance Officer": (*TEMPLATES, *PLAYER_BONUSES),
}
