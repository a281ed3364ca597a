"""What each role may do with players and the geo configuration (granted by players/0003_roles)."""

READ = ("players.view_player", "players.view_playerlogin", "players.view_playernote")
PLAYER_PERMISSIONS = {
    "Support Agent": (*READ, "players.add_playernote"),
    "KYC Officer": (*READ, "players.add_playernote"),
    "AML Analyst": (*READ, "players.add_playernote", "players.change_player_blocks", "players.change_player_tags"),
    "MLRO": (
        *READ,
        "players.add_playernote",
        "players.change_player_blocks",
        "players.change_player_status",
        "players.change_player_tags",
    ),
    "CRM Manager": ("players.view_player", "players.change_player_tags"),
    "Finance Officer": (*READ, "players.change_player_blocks"),
    "Administrator": (
        *READ,
        "players.add_playernote",
        "players.change_player_blocks",
        "players.change_player_status",
        "players.change_player_tags",
        "geo.view_jurisdiction",
        "geo.add_jurisdiction",
        "geo.change_jurisdiction",
        "geo.view_rulepack",
        "geo.add_rulepack",
        "geo.change_rulepack",
        "geo.view_ipoverride",
        "geo.add_ipoverride",
        "geo.change_ipoverride",
        "geo.delete_ipoverride",
    ),
}

# Added by players/0005: correcting a player's profile (name, birth date after KYC, contact details).
PROFILE_EDIT_PERMISSIONS = {
    "Administrator": ("players.change_player",),
    "KYC Officer": ("players.change_player",),
}

# Added by players/0009: on whose authority staff restrict an account, and who reads compliance reasons.
RESTRICTION_PERMISSIONS = {
    "MLRO": (
        "players.view_compliance",
        "players.act_compliance",
        "players.act_responsible_gambling",
        "players.act_finance",
        "players.act_support",
        "players.view_playerrestriction",
    ),
    "AML Analyst": (
        "players.view_compliance",
        "players.act_compliance",
        "players.act_responsible_gambling",
        "players.act_support",
        "players.view_playerrestriction",
    ),
    "Finance Officer": ("players.act_finance", "players.view_playerrestriction"),
    "Administrator": (
        "players.act_responsible_gambling",
        "players.act_finance",
        "players.act_support",
        "players.view_playerrestriction",
    ),
    # support staff run responsible-gambling reviews (apps.responsible): they ask lifts of operator exclusions
    "Support Agent": ("players.act_responsible_gambling", "players.view_playerrestriction"),
    "KYC Officer": ("players.view_playerrestriction",),
}
