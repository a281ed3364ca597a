"""Campaigns: a bonus template given to a segment's players in a time window (docs/CRM.md). The one way in for
the admin and the Celery job.

A run goes through the segment's members in player-id order, in chunks. Each chunk is one transaction: its
awards (or offers), the campaign's cursor (the last player id done) and its counters (processed, awarded,
refused by reason, cost) commit together. So a job killed mid-chunk rolls the whole chunk back and the next job
resumes at the cursor, and even a chunk done twice awards nothing twice: every award carries the key
``campaign-<id>`` and ``bonus_award``/``bonus_offer`` answer the bonus the key already made. Every award
re-checks the world at that moment (``can(player, "bonus")``, the jurisdiction's rules, the budget): a player who
excluded after the campaign was targeted is refused, counted, and given nothing. Cancelling stops the run at the
next chunk; what was given stays given (staff cancel a bonus on its own page)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.services import AuditActor, SystemActor, audit_log
from apps.bonuses.choices import Source, TemplateState
from apps.bonuses.models import BonusTemplate
from apps.core.errors import ApplicationError
from apps.crm import selectors, services
from apps.crm.choices import CampaignMode, CampaignState, SegmentKind
from apps.crm.errors import CampaignInvalid, CampaignNotPermitted, CampaignWrongState
from apps.crm.models import Campaign, Segment

VIEW, ADD, RUN = "crm.view_campaign", "crm.add_campaign", "crm.run_campaign"
# Players per chunk (one transaction, holding their accounts' locks): the batch path takes 1,000 in about a
# second; a template given one at a time (cashback) costs some 20 ms a player, so its chunks are smaller.
CHUNK = 1000
CHUNK_ONE_BY_ONE = 100
ZERO = Decimal("0")


def _require(actor: AuditActor, permission: str) -> None:
    if isinstance(actor, SystemActor):
        return  # the job itself
    has_perm = getattr(actor, "has_perm", None)
    if has_perm is None or not has_perm(permission):
        raise CampaignNotPermitted(f"You may not do this: it needs {permission}.")


def _staff(actor: AuditActor) -> Any:
    from apps.staff.models import StaffUser

    return actor if isinstance(actor, StaffUser) else None


def campaign_check(
    *, name: Any, segment: Segment | None, template: BonusTemplate | None, mode: Any, starts_at: Any, ends_at: Any
) -> str:
    """What create refuses, without writing (the admin form shows it on the fields). Returns the clean name."""
    errors: dict[str, list[str]] = {}
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > 100 or "\x00" in text or not text.isprintable():
        errors["name"] = ["A name of 1 to 100 printable characters."]
    elif Campaign.objects.filter(name__iexact=text).exists():
        errors["name"] = ["Another campaign has this name."]
    if mode not in CampaignMode.values:
        errors["mode"] = [f"Choose {' or '.join(CampaignMode.values)}."]
    if segment is None:
        errors["segment"] = ["Choose a segment."]
    if template is None:
        errors["template"] = ["Choose a bonus template."]
    elif template.state != TemplateState.PUBLISHED:
        errors["template"] = [f"The template is {template.get_state_display().lower()}: publish it first."]
    elif segment is not None and segment.currency and segment.currency != template.currency:
        errors["template"] = [f"The template pays {template.currency}; the segment counts {segment.currency}."]
    if not isinstance(starts_at, datetime) or not isinstance(ends_at, datetime):
        errors["ends_at"] = ["A start and an end."]
    elif ends_at <= starts_at:
        errors["ends_at"] = ["The end comes after the start."]
    elif template is not None and template.valid_until is not None and ends_at > template.valid_until:
        errors["ends_at"] = [f"The template is valid until {template.valid_until:%Y-%m-%d %H:%M}."]
    if errors:
        raise CampaignInvalid(f"The campaign is not valid: {next(iter(errors.values()))[0]}", fields=errors)
    return text


@transaction.atomic
def campaign_create(
    *,
    actor: AuditActor,
    name: str,
    segment: Segment,
    template: BonusTemplate,
    mode: str = CampaignMode.OFFER,
    starts_at: datetime | None = None,
    ends_at: datetime,
) -> Campaign:
    _require(actor, ADD)
    starts_at = starts_at or timezone.now()
    text = campaign_check(
        name=name, segment=segment, template=template, mode=mode, starts_at=starts_at, ends_at=ends_at
    )
    campaign = Campaign.objects.create(
        name=text,
        segment=segment,
        template=template,
        mode=mode,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=_staff(actor),
    )
    audit_log(
        actor=actor,
        action="crm.campaign_created",
        target=campaign,
        data={
            "name": text,
            "segment": segment.pk,
            "template": template.code,
            "mode": mode,
            "window": [starts_at.isoformat(), ends_at.isoformat()],
        },
    )
    return campaign


def forecast(campaign: Campaign) -> dict[str, Any]:
    """The target count (the segment's preview: exact, or the planner's estimate, labelled) and the most the
    campaign can cost: per player the template's fixed amount or cap, bounded by the budget left."""
    segment = campaign.segment
    if segment.kind == SegmentKind.STATIC:
        count, exact = segment.member_count or 0, True
    else:
        preview = selectors.preview(segment.criteria, currency=segment.currency)
        count, exact = preview.count, preview.exact
    template = campaign.template
    per_player = template.amount
    most = None if per_player is None else per_player * count
    if most is not None and template.budget is not None:
        most = min(most, max(ZERO, template.budget - template.awarded_amount))
    return {"count": count, "exact": exact, "per_player": per_player, "most": most, "currency": template.currency}


@transaction.atomic
def campaign_start(*, actor: AuditActor, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """Freeze the targets (a dynamic segment is snapshotted now), mark the campaign running and queue the job
    (after commit)."""
    _require(actor, RUN)
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().select_related("segment", "template").get(pk=campaign.pk)
    if campaign.state != CampaignState.DRAFT:
        raise CampaignWrongState(f"The campaign is {campaign.get_state_display().lower()}: only a draft starts.")
    if now < campaign.starts_at or now >= campaign.ends_at:
        raise CampaignWrongState("The campaign's window is not open now.")
    if campaign.template.state != TemplateState.PUBLISHED:
        raise CampaignWrongState("The template is no longer published.")
    segment = campaign.segment
    if segment.kind == SegmentKind.DYNAMIC:
        snapshot = services.segment_snapshot(actor=SystemActor("crm.campaign"), segment=segment)
        target = snapshot.members
    else:
        if segment.last_refreshed_at is None:
            raise CampaignWrongState("Snapshot this static segment first: its members are its snapshot.")
        target = segment.members.count()
    Campaign.objects.filter(pk=campaign.pk).update(
        state=CampaignState.RUNNING, started_at=now, started_by=_staff(actor), target_count=target, heartbeat_at=now
    )
    campaign.refresh_from_db()
    audit_log(actor=actor, action="crm.campaign_started", target=campaign, data={"targets": target})
    from apps.crm.tasks import crm_campaign_run

    crm_campaign_run.delay(campaign.pk)
    return campaign


@transaction.atomic
def campaign_cancel(*, actor: AuditActor, campaign: Campaign) -> Campaign:
    """Stop a draft or a running campaign: the job stops at its next chunk; what was given stays given."""
    _require(actor, RUN)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state not in (CampaignState.DRAFT, CampaignState.RUNNING):
        raise CampaignWrongState(f"The campaign is {campaign.get_state_display().lower()}: nothing to cancel.")
    Campaign.objects.filter(pk=campaign.pk).update(
        state=CampaignState.CANCELLED, finished_at=timezone.now(), cancelled_by=_staff(actor)
    )
    campaign.refresh_from_db()
    audit_log(
        actor=actor,
        action="crm.campaign_cancelled",
        target=campaign,
        data={"processed": campaign.processed, "awarded": campaign.awarded, "cost": str(campaign.cost)},
    )
    return campaign


def _next_ids(campaign: Campaign, size: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT player_id FROM crm_segmentmember WHERE segment_id = %s AND player_id > %s "
            "ORDER BY player_id LIMIT %s",
            (campaign.segment_id, campaign.cursor, size),
        )
        return [row[0] for row in cursor.fetchall()]


def campaign_chunk(*, campaign_id: int, size: int | None = None, now: datetime | None = None) -> bool:
    """One chunk of a running campaign, in one transaction. True while there is more to do."""
    from apps.bonuses import bulk

    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("template").get(pk=campaign_id)
        if campaign.state != CampaignState.RUNNING:
            return False
        if now >= campaign.ends_at:
            _finish(campaign, now, note="window_closed")
            return False
        batch = bulk.supports(campaign.template, campaign.mode)
        ids = _next_ids(campaign, size or (CHUNK if batch else CHUNK_ONE_BY_ONE))
        if not ids:
            _finish(campaign, now)
            return False
        actor = SystemActor(f"crm.campaign.{campaign.pk}")
        if batch:  # the whole chunk in a fixed number of statements
            given = bulk.give_many(
                actor=actor,
                template=campaign.template,
                player_ids=ids,
                mode=campaign.mode,
                source=Source.CAMPAIGN,
                source_ref=f"campaign-{campaign.pk}",
                campaign_id=campaign.pk,
                now=now,
            )
            bonuses, refused = list(given.bonuses.values()), list(given.refused.values())
        else:
            bonuses, refused = _give_one_by_one(campaign, actor, ids, now)
        refusals = dict(campaign.refusals)
        for reason in refused:
            refusals[reason] = refusals.get(reason, 0) + 1
        Campaign.objects.filter(pk=campaign.pk).update(
            cursor=ids[-1],
            processed=F("processed") + len(ids),
            awarded=F("awarded") + len(bonuses),
            refused=F("refused") + (len(ids) - len(bonuses)),
            refusals=refusals,
            cost=F("cost") + sum((b.amount for b in bonuses), ZERO),
            heartbeat_at=now,
        )
        return True


def _give_one_by_one(
    campaign: Campaign, actor: SystemActor, ids: list[int], now: datetime
) -> tuple[list[Any], list[str]]:
    """A template the batch path does not take (cashback: each player's own net losses): ``bonus_award`` or
    ``bonus_offer`` per player. The bonuses given and the refusals' reasons."""
    from apps.bonuses.awards import bonus_award, bonus_offer
    from apps.players.models import Player

    give = bonus_award if campaign.mode == CampaignMode.AWARD else bonus_offer
    bonuses, refused = [], []
    for player in Player.objects.filter(pk__in=ids).order_by("pk"):
        try:
            bonuses.append(
                give(
                    actor=actor,
                    player=player,
                    template=campaign.template,
                    source=Source.CAMPAIGN,
                    source_ref=f"campaign-{campaign.pk}",
                    campaign_id=campaign.pk,
                    now=now,
                )
            )
        except ApplicationError as exc:  # refused for this player: counted by its reason, the others go on
            reasons = (exc.fields or {}).get("reasons") if isinstance(exc.fields, dict) else None
            refused.append(reasons[0] if reasons else exc.code)
    return bonuses, refused


def _finish(campaign: Campaign, now: datetime, note: str = "") -> None:
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.COMPLETED, finished_at=now)
    campaign.refresh_from_db()
    audit_log(
        actor=SystemActor(f"crm.campaign.{campaign.pk}"),
        action="crm.campaign_completed",
        target=campaign,
        data={
            "processed": campaign.processed,
            "awarded": campaign.awarded,
            "refused": campaign.refused,
            "refusals": campaign.refusals,
            "cost": str(campaign.cost),
            "currency": campaign.template.currency,
            **({"note": note} if note else {}),
        },
    )


def campaign_run(*, campaign_id: int, size: int | None = None, max_chunks: int | None = None) -> int:
    """Chunks until the campaign is done, cancelled or ``max_chunks`` ran (the task then queues itself again, so
    no single task outlives its time limit). The chunks done."""
    done = 0
    while max_chunks is None or done < max_chunks:
        if not campaign_chunk(campaign_id=campaign_id, size=size):
            break
        done += 1
    return done


STALLED_AFTER_SECONDS = 120


def stalled_campaign_ids(*, now: datetime | None = None) -> list[int]:
    """Running campaigns whose job did no chunk for ``STALLED_AFTER_SECONDS`` (killed, or its task lost)."""
    from datetime import timedelta

    since = (now or timezone.now()) - timedelta(seconds=STALLED_AFTER_SECONDS)
    return list(
        Campaign.objects.filter(state=CampaignState.RUNNING, heartbeat_at__lt=since)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
