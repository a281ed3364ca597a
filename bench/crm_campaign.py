"""Awarding a campaign: ``BENCH_CAMPAIGN_PLAYERS`` (default 100,000; goal <= 60 s) GB players of the bench
database get a GBP 1.00 cash bonus (mode award: a ledger posting, the bonus row, the template's counters, the
audit event and the outbox row per player, each re-checked by ``can()``'s checks and the rules), through the job's
own chunks (``campaign_run``: the batch path of apps/bonuses/bulk.py, 1,000 players a chunk). Baseline in the same
run: ``bonus_award`` called in a plain loop for ``BENCH_CAMPAIGN_BASELINE`` (default 500) other players, so the
ratio shows what the batch path gains over one award at a time. Printed: awards/s of both, the ratio, and the time
for the campaign. Each run makes a new template and campaign (the old ones stay: awards are kept)."""

from __future__ import annotations

import contextlib
import os
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from bench.players import ensure_players

N = int(os.environ.get("BENCH_CAMPAIGN_PLAYERS", "100000"))
BASELINE = int(os.environ.get("BENCH_CAMPAIGN_BASELINE", "500"))


def _template(tag: str):  # type: ignore[no-untyped-def]
    from apps.bonuses.choices import TemplateState
    from apps.bonuses.models import BonusTemplate

    return BonusTemplate.objects.create(
        code=f"bench-campaign-{tag}",
        name=f"Bench campaign {tag}",
        type="cash",
        products=["casino"],
        currency="GBP",
        amount=Decimal("1.00"),
        wagering_multiplier=Decimal("5"),
        max_bet=Decimal("2.00"),
        jurisdictions=["GB"],
        state=TemplateState.PUBLISHED,
    )


def run() -> None:
    from apps.audit.services import SystemActor
    from apps.bonuses.awards import bonus_award
    from apps.bonuses.choices import Source
    from apps.core.errors import ApplicationError
    from apps.crm import campaigns
    from apps.crm.choices import CampaignState, SegmentKind
    from apps.crm.models import Campaign, Segment
    from apps.players.models import Player

    ensure_players()
    tag = f"{timezone.now():%Y%m%d%H%M%S}"
    with connection.cursor() as cursor:
        # The bench database only: earlier runs' bonuses end as the beat job ends an unwagered bonus (without its
        # forfeit postings, which the run does not measure) and move two days back, so the same players can be
        # given again without each raising a claim-velocity flag (three bonuses in 24 h); then fresh planner
        # statistics, as autovacuum would have them on a live database.
        cursor.execute(
            "UPDATE bonuses_playerbonus b SET state = 'expired', end_reason = 'wager_expired', ended_at = now(), "
            "activated_at = b.activated_at - interval '2 days' "
            "FROM bonuses_bonustemplate t WHERE t.id = b.template_id AND t.code LIKE 'bench-campaign-%%' "
            "AND (b.state = 'active' OR b.activated_at > now() - interval '2 days')"
        )
        cursor.execute("ANALYZE bonuses_playerbonus")
    ids = list(
        Player.objects.filter(country="GB", currency="GBP", status="active")
        .exclude(bonuses__state="active")
        .order_by("id")
        .values_list("id", flat=True)[: N + BASELINE]
    )
    if len(ids) < N + BASELINE:
        print(f"crm_campaign: only {len(ids):,} GB players; set BENCH_PLAYERS higher", flush=True)
    targets, others = ids[:N], ids[N:]
    actor = SystemActor("bench")

    base_template = _template(f"{tag}-base")
    started = time.perf_counter()
    for player in Player.objects.filter(pk__in=others).order_by("pk"):
        with contextlib.suppress(ApplicationError):  # a refused player (a limit, a block), as in the campaign
            bonus_award(actor=actor, player=player, template=base_template, source=Source.CAMPAIGN, source_ref="b")
    base_rate = len(others) / (time.perf_counter() - started) if others else 0.0

    segment = Segment.objects.create(name=f"bench campaign {tag}", kind=SegmentKind.STATIC, currency="GBP")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_segmentmember (segment_id, player_id, added_at) "
            "SELECT %s, id, now() FROM unnest(%s::bigint[]) AS t(id)",
            [segment.pk, targets],
        )
    Segment.objects.filter(pk=segment.pk).update(last_refreshed_at=timezone.now(), member_count=len(targets))
    campaign = Campaign.objects.create(
        name=f"bench {tag}",
        segment=segment,
        template=_template(tag),
        mode="award",
        ends_at=timezone.now() + timedelta(days=1),
        state=CampaignState.RUNNING,
        target_count=len(targets),
        started_at=timezone.now(),
    )
    started = time.perf_counter()
    campaigns.campaign_run(campaign_id=campaign.pk)
    seconds = time.perf_counter() - started
    campaign.refresh_from_db()
    rate = campaign.processed / seconds if seconds else 0.0
    print(
        f"crm_campaign: {campaign.processed:,} players in {seconds:.1f} s ({rate:.0f}/s; given {campaign.awarded:,},"
        f" refused {campaign.refused:,} {campaign.refusals}, cost {campaign.cost} GBP); goal 100,000 in <= 60 s",
        flush=True,
    )
    print(
        f"crm_campaign: plain bonus_award loop {base_rate:.0f}/s over {len(others):,} players; "
        f"campaign/plain {rate / base_rate if base_rate else 0:.2f}; 100,000 at this rate: "
        f"{100_000 / rate if rate else 0:.0f} s",
        flush=True,
    )
