"""Seed the fault tests' private database through the project's services (run by tests/faults/stack.py in the
stack's environment, never against the suite's database).

    python -m tests.faults.seed seed --players N   # demo players (GB), a deposit each, an API client; prints JSON
    python -m tests.faults.seed webhook URL        # the API client's webhook points at the test's receiver
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal

CLIENT_NAME = "Fault tests"


def seed(players: int) -> dict[str, object]:
    from apps.api.scopes import ALL_SCOPES
    from apps.api.services import api_client_create
    from apps.audit.services import SystemActor
    from apps.players.demo import demo_brand, seed_players, vacuum_players
    from apps.players.models import Player
    from apps.wallet import posting
    from tests.faults.stack import SEED_DEPOSIT

    actor = SystemActor("tests.faults.seed")
    from apps.kyc.demo import seed_levels

    seed_players(players, actor=actor)
    seed_levels()
    vacuum_players()
    verified = Player.objects.filter(country="GB", currency="GBP", kyc__level__gte=2)  # GB: deposits need level 1
    chosen = list(verified.order_by("id").values("id", "external_id"))
    for player in chosen:
        posting.deposit(
            player=player["external_id"], amount=Decimal(SEED_DEPOSIT), currency="GBP", reference="faults-seed"
        )
    _client, key = api_client_create(actor=actor, name=CLIENT_NAME, scopes=ALL_SCOPES, brands=[demo_brand()])
    return {"key": key, "players": [{"id": p["external_id"], "currency": "GBP"} for p in chosen]}


def webhook(url: str) -> None:
    from django.db import transaction

    from apps.api.models import ApiClient
    from apps.api.services import api_client_set_webhook
    from apps.audit.services import SystemActor

    with transaction.atomic():
        client = ApiClient.objects.get(name=CLIENT_NAME)
        api_client_set_webhook(actor=SystemActor("tests.faults.seed"), client=client, url=url)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tests.faults.seed")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed").add_argument("--players", type=int, default=1000)
    commands.add_parser("webhook").add_argument("url")
    args = parser.parse_args(argv)
    import django

    django.setup()
    if args.command == "seed":
        print(json.dumps(seed(args.players)))
    else:
        webhook(args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
