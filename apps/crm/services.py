"""The CRM's one way in: segments (create, update, preview, snapshot, the nightly refresh) and the marketing
export. Every write checks the actor's permission (a staff member; the system's nightly job holds all), changes
the rows, and writes its audit event in the same transaction."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.audit.services import AuditActor, SystemActor, audit_log
from apps.crm import criteria as registry
from apps.crm import selectors
from apps.crm.choices import Channel, SegmentKind
from apps.crm.contactable import CONTACT_COLUMNS, ROW_COLUMNS, contactable_rows
from apps.crm.errors import (
    ExportChannelInvalid,
    SegmentCriteriaInvalid,
    SegmentFieldInvalid,
    SegmentNameTaken,
    SegmentNotPermitted,
    SegmentNotSnapshotted,
)
from apps.crm.models import Segment

VIEW, ADD, CHANGE, EXPORT = "crm.view_segment", "crm.add_segment", "crm.change_segment", "crm.export_segment"
CURRENCY = re.compile(r"^[A-Z]{3}$")
EXPORT_BATCH = 2000


def _require(actor: AuditActor, permission: str) -> None:
    if isinstance(actor, SystemActor):
        return  # the nightly refresh
    has_perm = getattr(actor, "has_perm", None)
    if has_perm is None or not has_perm(permission):
        raise SegmentNotPermitted(f"You may not do this: it needs {permission}.")


def _line(value: Any, limit: int, what: str, *, required: bool = False, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise SegmentFieldInvalid(fields={what: ["Must be text."]})
    text = value.strip()
    allowed = text.replace("\n", "").replace("\r", "") if multiline else text
    if "\x00" in text or (allowed and not allowed.isprintable()):
        raise SegmentFieldInvalid(fields={what: ["Holds a control character."]})
    if required and not text:
        raise SegmentFieldInvalid(fields={what: ["This field is required."]})
    if len(text) > limit:
        raise SegmentFieldInvalid(fields={what: [f"At most {limit} characters."]})
    return text


def _fields(name: Any, description: Any, kind: Any, currency: Any) -> tuple[str, str, str, str]:
    name = _line(name, 100, "name", required=True)
    description = _line(description, 2000, "description", multiline=True)
    if kind not in SegmentKind.values:
        raise SegmentFieldInvalid(fields={"kind": [f"Choose {' or '.join(SegmentKind.values)}."]})
    currency = _line(currency, 3, "currency").upper()
    if currency and not CURRENCY.match(currency):
        raise SegmentFieldInvalid(fields={"currency": ["An ISO 4217 code of three letters, e.g. GBP."]})
    return name, description, kind, currency


def validated_criteria(raw: Any, *, currency: str) -> dict[str, Any]:
    clean, errors = registry.validate(raw, currency=currency)
    if errors:
        first = next(iter(errors.values()))[0]
        raise SegmentCriteriaInvalid(f"The criteria are not valid: {first}", fields=errors)
    return clean


def _name_free(name: str, segment: Segment | None) -> None:
    others = Segment.objects.filter(name__iexact=name)
    if segment is not None and segment.pk:
        others = others.exclude(pk=segment.pk)
    if others.exists():
        raise SegmentNameTaken(
            f"A segment named {name!r} exists already.", fields={"name": ["Another segment has this name."]}
        )


def segment_check(
    *, name: Any, description: Any, kind: Any, currency: Any, criteria: Any, segment: Segment | None = None
) -> tuple[str, str, str, str, dict[str, Any]]:
    """What create and update refuse, without writing: the admin form shows the errors on its fields."""
    name, description, kind, currency = _fields(name, description, kind, currency)
    clean = validated_criteria(criteria, currency=currency)
    _name_free(name, segment)
    return name, description, kind, currency, clean


def _save(segment: Segment) -> None:
    _name_free(segment.name, segment)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as exc:  # a concurrent create won the race for the name
        raise SegmentNameTaken(
            f"A segment named {segment.name!r} exists already.", fields={"name": ["Taken."]}
        ) from exc


@transaction.atomic
def segment_create(
    *,
    actor: AuditActor,
    name: str,
    criteria: Any,
    kind: str = SegmentKind.DYNAMIC,
    description: str = "",
    currency: str = "",
) -> Segment:
    _require(actor, ADD)
    name, description, kind, currency = _fields(name, description, kind, currency)
    clean = validated_criteria(criteria, currency=currency)
    from apps.staff.models import StaffUser

    segment = Segment(
        name=name,
        description=description,
        kind=kind,
        currency=currency,
        criteria=clean,
        created_by=actor if isinstance(actor, StaffUser) else None,
    )
    _save(segment)
    audit_log(
        actor=actor,
        action="crm.segment_created",
        target=segment,
        data={"name": name, "kind": kind, "currency": currency, "criteria": clean},
    )
    return segment


@transaction.atomic
def segment_update(
    *,
    actor: AuditActor,
    segment: Segment,
    name: str | None = None,
    criteria: Any = None,
    kind: str | None = None,
    description: str | None = None,
    currency: str | None = None,
) -> Segment:
    _require(actor, CHANGE)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    before = {"name": segment.name, "kind": segment.kind, "currency": segment.currency, "criteria": segment.criteria}
    name, description, kind, currency = _fields(
        segment.name if name is None else name,
        segment.description if description is None else description,
        segment.kind if kind is None else kind,
        segment.currency if currency is None else currency,
    )
    clean = validated_criteria(segment.criteria if criteria is None else criteria, currency=currency)
    segment.name, segment.description, segment.kind, segment.currency, segment.criteria = (
        name,
        description,
        kind,
        currency,
        clean,
    )
    _save(segment)
    after = {"name": name, "kind": kind, "currency": currency, "criteria": clean}
    changed = {key: {"from": before[key], "to": value} for key, value in after.items() if before[key] != value}
    audit_log(actor=actor, action="crm.segment_updated", target=segment, data={"changed": changed})
    return segment


def segment_preview(*, actor: AuditActor, criteria: Any, currency: str = "") -> selectors.Preview:
    """The member count (exact below the estimate threshold, else the planner's estimate, labelled) and a sample
    of 20 players, for criteria saved or not. A read: nothing is written."""
    _require(actor, VIEW)
    currency = _line(currency, 3, "currency").upper()
    return selectors.preview(validated_criteria(criteria, currency=currency), currency=currency)


@dataclass(frozen=True)
class Snapshot:
    members: int
    added: int
    removed: int


SNAPSHOT_SQL = """
WITH fresh AS ({query}),
gone AS (
    DELETE FROM crm_segmentmember m WHERE m.segment_id = %s AND m.player_id NOT IN (SELECT id FROM fresh)
    RETURNING 1
),
added AS (
    INSERT INTO crm_segmentmember (segment_id, player_id, added_at) SELECT %s, id, %s FROM fresh
    ON CONFLICT (segment_id, player_id) DO NOTHING RETURNING 1
)
SELECT (SELECT count(*) FROM fresh), (SELECT count(*) FROM added), (SELECT count(*) FROM gone)
"""


@transaction.atomic
def segment_snapshot(*, actor: AuditActor, segment: Segment) -> Snapshot:
    """Store the segment's current players as its members, in one statement of one transaction: members who stay
    keep the time they were added, the others are removed, newcomers added. The segment row is locked so two
    snapshots of one segment run one after the other."""
    _require(actor, CHANGE)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    clean = validated_criteria(segment.criteria, currency=segment.currency)  # a criterion's app may be gone
    now = timezone.now()
    query = selectors.segment_query(clean, currency=segment.currency, now=now)
    with selectors.segment_session(), connection.cursor() as cursor:
        cursor.execute(SNAPSHOT_SQL.format(query=query.sql), (*query.params, segment.pk, segment.pk, now))
        members, added, removed = (int(v) for v in cursor.fetchone())
    Segment.objects.filter(pk=segment.pk).update(member_count=members, last_refreshed_at=now)
    segment.member_count, segment.last_refreshed_at = members, now
    audit_log(
        actor=actor,
        action="crm.segment_snapshotted",
        target=segment,
        data={"members": members, "added": added, "removed": removed},
    )
    return Snapshot(members=members, added=added, removed=removed)


def segment_refresh(*, actor: AuditActor, segment_id: int) -> Snapshot | None:
    """The nightly refresh of one dynamic segment: its snapshot, or None when the segment is gone, no longer
    dynamic, or refused (a criterion whose app is gone: logged, the others go on)."""
    import structlog

    segment = Segment.objects.filter(pk=segment_id, kind=SegmentKind.DYNAMIC).first()
    if segment is None:
        return None
    try:
        return segment_snapshot(actor=actor, segment=segment)
    except SegmentCriteriaInvalid as exc:
        structlog.get_logger(__name__).warning("crm.segment_refresh_refused", segment=segment.pk, error=exc.message)
        return None


def segments_refresh(*, actor: AuditActor) -> dict[str, int]:
    """Every dynamic segment refreshed in turn, each in its own transaction (``manage.py shell``, tests; the beat
    fans the segments out as one task each, so no segment waits on another's time limit)."""
    done = refused = 0
    for segment_id in selectors.dynamic_segment_ids():
        if segment_refresh(actor=actor, segment_id=segment_id) is None:
            refused += 1
        else:
            done += 1
    return {"refreshed": done, "refused": refused}


def export_filename(segment: Segment, channel: str) -> str:
    return f"segment-{segment.pk}-{channel}-{timezone.now():%Y%m%d-%H%M%S}.csv"


def _csv(row: list[Any], *, raw: frozenset[int] = frozenset()) -> str:
    """One CSV line; the cells at the ``raw`` positions (E.164 phone numbers, checked by the database) are
    written as they are, the others protected from being read as formulas."""
    out = io.StringIO()
    cells = ["" if v is None else (str(v) if i in raw else _cell(v)) for i, v in enumerate(row)]
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def _cell(value: Any) -> str:
    text = str(value)
    # a spreadsheet reads a cell starting with = + - @ as a formula (CSV injection): quote it as text
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def marketing_export(*, actor: AuditActor, segment: Segment, channel: str) -> Iterator[str]:
    """The CSV lines of the segment's players who may be contacted on ``channel`` now: consent for the channel
    and ``can(player, "marketing")`` allowed, both read at the moment each batch is written. A static segment
    exports its snapshot's members, a dynamic one its current players.

    Side effects: ``crm.export_started`` (who, segment, channel) is committed before the first line, so a
    download that is cut off is on the trail too; ``crm.export_completed`` with the row count after the last."""
    _require(actor, EXPORT)
    if channel not in Channel.values:
        raise ExportChannelInvalid(
            f"No marketing channel {str(channel)[:20]!r}.",
            fields={"channel": [f"Choose from {', '.join(Channel.values)}."]},
        )
    segment = Segment.objects.get(pk=segment.pk)  # its state now, not the caller's copy
    if segment.kind == SegmentKind.STATIC and segment.last_refreshed_at is None:
        raise SegmentNotSnapshotted("Snapshot this static segment first: its members are its snapshot.")
    if segment.kind == SegmentKind.DYNAMIC:
        validated_criteria(segment.criteria, currency=segment.currency)
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="crm.export_started",
            target=segment,
            data={"segment": segment.name, "channel": channel, "kind": segment.kind},
        )
    return _export_lines(actor, segment, channel)


def _export_lines(actor: AuditActor, segment: Segment, channel: str) -> Iterator[str]:
    contact = CONTACT_COLUMNS[channel]
    phone = frozenset(i + 1 for i, c in enumerate(contact) if c == "phone")
    yield _csv(["external_id", *contact, "first_name", "country", "language"])
    rows = 0
    for ids in selectors.member_ids(segment, batch=EXPORT_BATCH):
        for row in contactable_rows(ids, channel, now=timezone.now()):
            rows += 1
            line = [row["external_id"], *(row[c] for c in contact), *(row[c] for c in ROW_COLUMNS[2:])]
            yield _csv(line, raw=phone)
    with transaction.atomic():
        audit_log(
            actor=actor,
            action="crm.export_completed",
            target=segment,
            data={"segment": segment.name, "channel": channel, "rows": rows},
        )
