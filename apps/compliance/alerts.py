"""Alerts: a live rule version's hits for a player, deduplicated on (rule, player, window key).

``alert_raise`` is one ``INSERT ... ON CONFLICT (rule, player, window_key) DO UPDATE``: two workers that hit the
same window at once (the posting consumer and the sweep, or a redelivered event) make one alert, the second
adding to its ``hit_count`` and ``last_hit_at``. The alert keeps the first hit's version and evidence (what made
an analyst look); every hit, the first and the repeats, is a ``RuleHit`` linked to it. Only a new alert goes to a
case (``apps.compliance.cases.case_for_alert``: the player's open case of the version's case type, or a new one)
and writes ``compliance.alert_raised`` to the audit trail; repeats are counted, not audited (a busy player's
deposits would flood the trail). Shadow versions record hits only (``hit_record``).

Side effects: the alert row, the hit row, for a new alert the case, its timeline and its linked transactions,
and one audit event: all in the caller's transaction.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.services import SystemActor, audit_log
from apps.compliance.kinds import Hit
from apps.compliance.models import Alert, RuleHit, RuleVersion
from apps.players.models import Player

ACTOR = SystemActor("compliance rules")

_UPSERT_SQL = """
    INSERT INTO compliance_alert (rule_id, version_id, player_id, window_key, score, evidence, case_id, created_at,
                                  hit_count, last_hit_at)
    VALUES (%s, %s, %s, %s, %s, %s::jsonb, NULL, %s, 1, %s)
    ON CONFLICT (rule_id, player_id, window_key) DO UPDATE
        SET hit_count = compliance_alert.hit_count + 1, last_hit_at = EXCLUDED.last_hit_at
    RETURNING id, version_id, score, evidence::text, case_id, created_at, hit_count, last_hit_at, (xmax = 0)
"""  # xmax = 0: the row was inserted by this statement, not updated


def _player_id(player: Player | int) -> int:
    return player if isinstance(player, int) else int(player.pk)


def hit_record(*, version: RuleVersion, player: Player | int, hit: Hit, alert: Alert | None = None) -> RuleHit:
    """One hit of ``version`` (shadow, or linked to its ``alert``): append-only, so the link is set here."""
    return RuleHit.objects.create(
        version=version,
        rule_id=version.rule_id,
        player_id=_player_id(player),
        shadow=alert is None,
        window_key=hit.window_key,
        evidence=hit.evidence,
        transaction_id=hit.transaction_id,
        alert=alert,
    )


@transaction.atomic
def alert_raise(*, version: RuleVersion, player: Player | int, hit: Hit) -> Alert:
    """The alert of ``version``'s rule for ``player`` and ``hit.window_key``: new (then attached to a case), or the
    existing one with one more hit."""
    from apps.compliance.cases import case_for_alert

    now = timezone.now()
    player_id = _player_id(player)
    evidence = json.dumps(hit.evidence, cls=DjangoJSONEncoder)
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_SQL,
            [version.rule_id, version.pk, player_id, hit.window_key, version.score, evidence, now, now],
        )
        row = cursor.fetchone()
    alert = Alert(
        id=row[0],
        rule_id=version.rule_id,
        version_id=row[1],
        player_id=player_id,
        window_key=hit.window_key,
        score=row[2],
        evidence=json.loads(row[3]),
        case_id=row[4],
        created_at=row[5],
        hit_count=row[6],
        last_hit_at=row[7],
    )
    alert._state.adding, alert._state.db = False, connection.alias
    inserted = bool(row[8])
    if row[1] == version.pk:
        alert.version = version  # the first version names the alert: the caller's, when it is this one
    hit_record(version=version, player=player_id, hit=hit, alert=alert)
    if inserted:
        alert.rule = version.rule  # loaded with the published versions (evaluation)
        case = case_for_alert(alert=alert)
        audit_log(
            actor=ACTOR,
            action="compliance.alert_raised",
            target=alert,
            data={
                "rule": alert.rule.code,
                "version": version.number,
                "player": player_id,
                "window_key": hit.window_key,
                "score": version.score,
                "case": case.pk,
                "transaction": hit.transaction_id,
            },
        )
    return alert
