"""What each role may do with brands (granted by api/0003, which binds API clients to brands)."""

BRAND_PERMISSIONS = {"Administrator": ("players.view_brand", "players.add_brand", "players.change_brand")}
