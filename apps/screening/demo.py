"""Demo watchlist for ``make run``: a small list of invented people and firms, imported like an operator's own
simple CSV, so registrations are screened (screening fails closed without a list) and the analyst has a hit to
review. One demo player is renamed after a listed person through the player services, which screens the change:
the hit is raised the way production raises one. Idempotent (the import of the same file is a no-op)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from apps.audit.services import AuditActor
from apps.core.errors import ApplicationError

DEMO_LIST = (
    b"id,name,aliases,date_of_birth,country,list,type\n"
    b"demo-1,Boris Ivanovich Kalinin,Borya Kalinin,1966-07-14,RU,Demo sanctions list,individual\n"
    b"demo-2,Marisol Quintero Vega,,1979,VE,Demo sanctions list,individual\n"
    b"demo-3,Hamid Reza Tabrizi,Hamid Tabrizi,1958-02-01,IR,Demo sanctions list,individual\n"
    b"demo-4,Northwind Maritime Holdings,,,,Demo sanctions list,entity\n"
)


def seed(*, actor: AuditActor | None, count: int | None) -> list[str]:
    from apps.players.models import Player
    from apps.players.services import player_update
    from apps.screening.imports import import_list
    from apps.screening.models import ScreeningHit

    results = import_list(fmt="csv", data=DEMO_LIST, file_name="demo-watchlist.csv", actor=actor)
    lines = [f"screening: demo watchlist {'already there' if all(r.unchanged for r in results) else 'imported'}"]
    if ScreeningHit.objects.exists():
        return lines
    for player in Player.objects.filter(country="GB", status="active").order_by("id")[:20]:
        try:
            with transaction.atomic():
                player_update(
                    actor=actor,
                    player=player,
                    staff=True,
                    reason="demo: the player's legal name, from their passport",
                    changes={"first_name": "Boris", "last_name": "Kalinin", "date_of_birth": date(1966, 7, 14)},
                )
        except ApplicationError:  # an excluded person's identity edit waits for a second person: the next one
            continue
        hits = ScreeningHit.objects.filter(player=player).count()
        lines.append(f"screening: {player.external_id} renamed after a listed person: {hits} hit(s) to review")
        break
    return lines
