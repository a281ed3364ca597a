from django.apps import AppConfig


class PlayersConfig(AppConfig):
    name = "apps.players"
    label = "players"
    verbose_name = "Players"

    def ready(self) -> None:
        from apps.core.demo import register_access, register_seeder
        from apps.players.demo import PLAYERS_COUNT, demo_api_key, seed_demo_players

        register_seeder("players", seed_demo_players, order=20, count=PLAYERS_COUNT)  # seed_demo --players N
        register_access("players", demo_api_key, order=20)  # the demo platform key sees the demo players
