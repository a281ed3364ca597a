"""Rule evaluation: a durable consumer of posting events, and a scheduled sweep.

The consumer (``compliance.rules``, drained on the ``compliance`` queue by the wallet's drain task) is queued only
for the posting types some kind is evaluated on (deposits and withdrawal requests, ``kinds.posting_types``): a
bet costs the rules nothing, not even a queue row. For each of a player's events it runs every published version
(live and shadow) of the kinds that posting type triggers, except the rules snoozed for the player, as of the
posting's time. Live hits become alerts (``alerts.alert_raise``), shadow hits are recorded only. Everything a
handler writes commits with the deletion of its queue rows (``apps.wallet.events``): an event is evaluated into
alerts exactly once, and one whose evaluation fails is retried, in order, never skipped.

The published versions are cached per process. The cache key is the set of published version ids, read once per
player's batch in the statement that also reads the player and their snoozes (no query of its own): a published
version's kind and parameters never change (the database refuses it), so the same ids mean the same rules, and
a publication or retirement is seen by the next batch, in every process, with no invalidation to forget or to
get wrong after a rollback.

The sweep (``sweep``, every 10 minutes through ``apps.compliance.tasks.rules_sweep``) runs the kinds no posting
triggers (country mismatch, shared identifiers, bonus abuse) for the players who logged in, deposited with a
payment instrument or were flagged by the bonus engine since the last sweep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from apps.compliance import alerts, kinds
from apps.compliance.choices import VersionMode
from apps.compliance.models import RuleVersion
from apps.wallet import rollups
from apps.wallet.events import PostingEvent, register_consumer

log = logging.getLogger(__name__)

CONSUMER = "compliance.rules"
SWEEP_CURSOR_KEY = "compliance:rules:sweep:last"
SWEEP_LOCK = (0x434D, 1)  # pg_try_advisory_lock(class, key): "CM", one sweep at a time
SWEEP_FIRST_LOOKBACK = timedelta(minutes=15)  # the first sweep (or one after the cache lost its cursor)


@dataclass(frozen=True)
class Loaded:
    version: RuleVersion
    kind: kinds.Kind
    params: dict[str, Any]

    @property
    def live(self) -> bool:
        return self.version.mode == VersionMode.LIVE


@dataclass(frozen=True)
class Published:
    token: tuple[int, ...]
    by_type: dict[str, tuple[Loaded, ...]] = field(default_factory=dict)
    sweep: tuple[Loaded, ...] = ()


_published: Published | None = None
_lock = threading.Lock()


def _reach(item: Loaded) -> int:
    """How many local days back the version reads (its longest window)."""
    windows = [value for value in item.params.values() if isinstance(value, kinds.Window)]
    return max((w.length if w.unit == "d" else w.hours // 24 + 2 for w in windows), default=0)


def _load(token: tuple[int, ...]) -> Published:
    loaded = []
    for version in RuleVersion.objects.filter(pk__in=token).select_related("rule").order_by("pk"):
        kind = kinds.KINDS.get(version.kind)
        if kind is None or not kind.available:
            log.warning("rule_version_not_evaluable", extra={"version": version.pk, "kind": version.kind})
            continue
        loaded.append(Loaded(version=version, kind=kind, params=kinds.parse(version.kind, version.params)))
    by_type: dict[str, list[Loaded]] = {}
    for item in sorted(loaded, key=_reach, reverse=True):  # the longest window reads the day rows for all
        for type in item.kind.triggers:
            by_type.setdefault(type, []).append(item)
    return Published(
        token=token,
        by_type={type: tuple(items) for type, items in by_type.items()},
        sweep=tuple(item for item in loaded if item.kind.sweep),
    )


_PUBLISHED_IDS_SQL = (
    "SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM compliance_ruleversion WHERE state = 'published'"
)


def published(token: tuple[int, ...] | None = None) -> Published:
    """The published versions, reloaded when the set of their ids (``token``, read here if not given) moved."""
    global _published
    if token is None:
        with connection.cursor() as cursor:
            cursor.execute(_PUBLISHED_IDS_SQL)
            token = tuple(cursor.fetchone()[0])
    current = _published
    if current is not None and current.token == token:
        return current
    with _lock:
        if _published is None or _published.token != token:
            _published = _load(token)
        return _published


@dataclass(frozen=True)
class Facts:
    country: str
    region: str
    currency: str
    geo_version: int | None
    snoozed: frozenset[int]  # the rules snoozed for the player now
    token: tuple[int, ...]  # the published versions' ids


# One statement for everything a player's batch needs besides the kinds' own reads: the player, the geo
# configuration's version (the rollups' clock), the rules snoozed for them (compliance_snooze_idx) and the set of
# published versions (compliance_version_state_idx).
_FACTS_SQL = f"""
    SELECT p.country, p.region, p.currency, (SELECT version FROM geo_geoconfigversion WHERE id = 1),
        (SELECT coalesce(array_agg(DISTINCT s.rule_id), '{{}}') FROM compliance_rulesnooze s
         WHERE s.player_id = p.id AND s.until > %s AND s.lifted_at IS NULL),
        ({_PUBLISHED_IDS_SQL})
    FROM players_player p WHERE p.id = %s
"""  # noqa: S608 (a constant)


def _facts(player_id: int, now: datetime) -> Facts:
    with connection.cursor() as cursor:
        cursor.execute(_FACTS_SQL, [now, player_id])
        row = cursor.fetchone()
    return Facts(
        country=row[0],
        region=row[1],
        currency=row[2],
        geo_version=row[3],
        snoozed=frozenset(row[4]),
        token=tuple(row[5]),
    )


def _subject(player_id: int, facts: Facts, currency: str, at: datetime, event: PostingEvent | None) -> kinds.Subject:
    zone = rollups.zone_for(facts.country, facts.region, facts.geo_version or 0, at)  # the posting's own clock
    return kinds.Subject(player_id=player_id, currency=currency, country=facts.country, zone=zone, now=at, event=event)


def _run(items: Iterable[Loaded], subject: kinds.Subject, snoozed: frozenset[int]) -> int:
    hits = 0
    for item in items:
        if item.version.rule_id in snoozed:
            continue
        for hit in item.kind.evaluate(subject, item.params):
            hits += 1
            if item.live:
                alerts.alert_raise(version=item.version, player=subject.player_id, hit=hit)
            else:
                alerts.hit_record(version=item.version, player=subject.player_id, hit=hit)
    return hits


def handle(events: list[PostingEvent]) -> None:
    """The consumer's handler: one player's events, in order, in the drain's transaction. One query, then the
    kinds' own reads for the events some published version is evaluated on."""
    player_id = events[0].player_id
    facts = _facts(player_id, timezone.now())
    rules = published(facts.token)
    for event in events:
        items = rules.by_type.get(event.type)
        if items:
            _run(items, _subject(player_id, facts, event.currency, event.created_at, event), facts.snoozed)


def register() -> None:
    """The consumer, for the posting types the kinds need (ComplianceConfig.ready)."""
    register_consumer(CONSUMER, handle, types=sorted(kinds.posting_types()))


# --- the sweep ------------------------------------------------------------------------------------------------

# Who the sweep kinds may find something new about: a login (country, device, IP), a deposit with a payment
# instrument (a card shared with others) or a bonus-abuse flag. A deposit without an instrument changes nothing
# they read. Flags are looked for from FLAG_OVERLAP before the last sweep: a flag is stamped when the bonus
# engine raises it and commits with the award or bet that raised it, possibly after a sweep that stopped later;
# with no overlap it would be found only at the player's next login. Flags are few, and a player evaluated again
# adds nothing (the alerts are deduplicated).
FLAG_OVERLAP = timedelta(minutes=5)
_ACTIVE_SQL = """
    SELECT player_id FROM players_playerlogin WHERE at > %(since)s AND at <= %(now)s
    UNION
    SELECT player_id FROM wallet_transaction
    WHERE type = 'deposit' AND instrument_fingerprint <> '' AND created_at > %(since)s AND created_at <= %(now)s
    UNION
    SELECT player_id FROM bonuses_bonusflag WHERE created_at > %(flags_since)s AND created_at <= %(now)s
"""


def _since(now: datetime) -> datetime:
    try:
        last = cache.get(SWEEP_CURSOR_KEY)
    except Exception:  # the cache is down: sweep the default lookback rather than nothing
        log.warning("rules_sweep_cursor_unavailable", exc_info=True)
        last = None
    return last if isinstance(last, datetime) and last < now else now - SWEEP_FIRST_LOOKBACK


def sweep(now: datetime | None = None, since: datetime | None = None) -> dict[str, int]:
    """Run the sweep kinds' published versions for the players who logged in, deposited or were flagged in (since, now]
    (``since``: where the last sweep stopped). Each player in its own transaction: one player's failure is
    logged and counted, the others go on (that player is looked at again at their next login or deposit). One
    sweep at a time: a session advisory lock, released when the sweep ends or its connection dies; a sweep that
    finds it taken returns at once (``skipped``). Returns counts for the task's result."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", SWEEP_LOCK)
        if not cursor.fetchone()[0]:
            return {"players": 0, "hits": 0, "failed": 0, "skipped": 1}
    try:
        return _sweep(now, since)
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", SWEEP_LOCK)
        except Exception:  # a dead connection released it
            log.warning("rules_sweep_unlock_failed", exc_info=True)


def _sweep(now: datetime, since: datetime | None) -> dict[str, int]:
    explicit = since is not None
    since = since or _since(now)
    result = {"players": 0, "hits": 0, "failed": 0, "skipped": 0}
    rules = published()
    if rules.sweep:
        with connection.cursor() as cursor:
            cursor.execute(_ACTIVE_SQL, {"since": since, "now": now, "flags_since": since - FLAG_OVERLAP})
            player_ids = sorted(int(row[0]) for row in cursor.fetchall())
        for player_id in player_ids:
            try:
                with transaction.atomic():
                    facts = _facts(player_id, now)
                    subject = _subject(player_id, facts, facts.currency, now, None)
                    result["hits"] += _run(rules.sweep, subject, facts.snoozed)
            except Exception:
                result["failed"] += 1
                log.exception("rules_sweep_failed", extra={"player": player_id})
                continue
            result["players"] += 1
    if not explicit:
        try:
            cache.set(SWEEP_CURSOR_KEY, now, timeout=None)
        except Exception:
            log.warning("rules_sweep_cursor_unsaved", exc_info=True)
    return result
