"""Postings: every movement of money is one ledger transaction with balanced entries, in one DB transaction.

Side effects of every posting: locks the player's cash/bonus/pending rows of the currency (``FOR UPDATE``, in id
order, so concurrent postings on one player queue rather than deadlock), never locks an operator account, checks
eligibility (``can``) inside the same transaction *after* the lock (so a check that sums the ledger, such as a
deposit limit, sees every posting committed before it), then writes the transaction, its entries and the
balance moves in ONE statement. The ledger rows are the record of the posting (they are append-only in the
database); postings do not also write the audit chain, which would serialise every bet on its lock.

Round trips of a bet: the lock (which also finds the player by external id), the eligibility facts, the write.
Every refusal is raised before the write, so a caller that keeps its own records in the same transaction (the
API's idempotency record) needs no savepoint around a posting. The one refusal found by the write itself, a
client's reference used twice for one type (409 ``duplicate_reference``, a partial unique index), is an
``INSERT ... ON CONFLICT DO NOTHING`` whose statement then writes nothing at all: still no savepoint.

From the API, the player is looked up among the client's brands (``brand_ids``): any other is ``player_not_found``.

A player is given as the ``Player`` or, from the API, as its external id (found by the lock statement itself).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from apps.core.bulksql import insert_select
from apps.core.errors import ApplicationError, Conflict, NotFound, PlayerNotFound, ValidationFailed
from apps.core.money import quantize
from apps.geo.choices import GameCategory
from apps.players.eligibility import Eligibility, can, instrument_refusal
from apps.players.models import Player
from apps.wallet import events, rollups
from apps.wallet.choices import AccountKind, TransactionType
from apps.wallet.errors import CurrencyMismatch, UnknownRound
from apps.wallet.models import LedgerTransaction

ZERO = Decimal("0")
GAME_CATEGORIES = frozenset(GameCategory.values)
REVERSIBLE: dict[str, str] = {
    TransactionType.BET: TransactionType.ROLLBACK,
    TransactionType.WIN: TransactionType.WIN_ROLLBACK,
}
PlayerRef = Player | str  # the Player, or its external id


class PostingRefused(ApplicationError):
    """Eligibility said no: the code is the first reason, ``fields.reasons`` has them all."""

    status = 403
    code = "not_allowed"
    dynamic_code = True


class DuplicateReference(Conflict):
    code = "duplicate_reference"
    when = "a reference is unique per client and type"
    default_message = "A transaction of this type with this reference was already posted by this client."


class InsufficientFunds(ApplicationError):
    status = 409
    code = "insufficient_funds"
    when = "more than the cash (or playable) balance"
    default_message = "The player's balance does not cover this amount."


class BalanceLimit(Conflict):
    """The posting would take a balance past what the ledger's NUMERIC(20, 4) columns hold."""

    code = "balance_limit"
    when = "a balance would pass what the ledger stores (NUMERIC(20,4))"
    default_message = "This posting would take a balance past the largest amount the ledger holds."


# NUMERIC(20, 4): 16 digits before the point.
BALANCE_LIMIT = Decimal(10) ** 16


@dataclass(frozen=True)
class PlayerAccounts:
    """The player's three accounts in one currency, locked, with their balances as locked."""

    player_id: int
    player_currency: str
    currency: str
    cash_id: int
    cash: Decimal
    bonus_id: int
    bonus: Decimal
    pending_id: int
    pending: Decimal
    operator: dict[str, int]  # kind -> account id (never locked)
    country: str = ""  # residence: the jurisdiction whose clock the rollups' day follows
    region: str = ""
    geo_version: int | None = None

    def after(self, deltas: dict[int, Decimal]) -> dict[str, Decimal]:
        """The balances once ``deltas`` (account id -> change) are applied."""
        return {
            "cash": self.cash + deltas.get(self.cash_id, ZERO),
            "bonus": self.bonus + deltas.get(self.bonus_id, ZERO),
            "pending_withdrawal": self.pending + deltas.get(self.pending_id, ZERO),
        }


@dataclass(frozen=True)
class Posted:
    transaction: LedgerTransaction
    balances: dict[str, Decimal]  # the player's cash, bonus and pending_withdrawal after the posting


# One round trip: the player (by id or external id) with what places them on a clock (residence, the geo
# configuration's version: the rollups' local day), their rows of the currency locked in id order, and the
# operator's rows of the currency, unlocked. No row: no such player; a row without an account: first use.
_LOCK_SQL = """
    WITH p AS (
        SELECT id, currency, country, region, (SELECT version FROM geo_geoconfigversion WHERE id = 1) AS geo
        FROM players_player WHERE {where}
    ),
    locked AS (
        SELECT a.id, a.kind, a.balance FROM wallet_account a
        WHERE a.player_id = (SELECT id FROM p) AND a.currency = %s ORDER BY a.id FOR UPDATE
    )
    SELECT p.id, p.currency, l.id, l.kind, l.balance, p.country, p.region, p.geo FROM p LEFT JOIN locked l ON true
    UNION ALL
    SELECT NULL, NULL, o.id, o.kind, o.balance, NULL, NULL, NULL FROM wallet_account o
    WHERE o.player_id IS NULL AND o.currency = %s AND EXISTS (SELECT 1 FROM p)
"""
# Keyed by how the player is named; "brands" is the API's: an external id among the client's brands (both columns
# are in the covering index, so the lookup stays an index-only scan).
_LOCK_BY = {
    "id": _LOCK_SQL.format(where="id = %s"),
    "external_id": _LOCK_SQL.format(where="external_id = %s"),
    "brands": _LOCK_SQL.format(where="external_id = %s AND brand_id = ANY(%s::bigint[])"),
}
_CREATE_SQL = """
    INSERT INTO wallet_account (player_id, kind, currency, balance) VALUES
        (%s, 'cash', %s, 0), (%s, 'bonus', %s, 0), (%s, 'pending_withdrawal', %s, 0),
        (NULL, 'house', %s, 0), (NULL, 'payment_clearing', %s, 0), (NULL, 'bonus_cost', %s, 0),
        (NULL, 'adjustments', %s, 0)
    ON CONFLICT DO NOTHING
"""


def _player_not_found() -> NotFound:
    return PlayerNotFound("No player with this external_id.")


def currency_mismatch(player_currency: str) -> ValidationFailed:
    return CurrencyMismatch(
        f"The player's wallet is in {player_currency}.",
        fields={"currency": [f"Must be {player_currency}."]},
    )


def lock_accounts(
    player: PlayerRef | int, currency: str, *, brand_ids: Collection[int] | None = None
) -> PlayerAccounts:
    """Lock the player's accounts in ``currency`` (the player's own currency, else ``currency_mismatch``),
    creating them and the operator's on first use. With ``brand_ids`` (an API client's brands) a player of
    another brand is ``player_not_found``, like one that does not exist."""
    value: int | str = player.pk if isinstance(player, Player) else player
    key = "external_id" if isinstance(value, str) else "id"
    lead: list[Any] = [value]
    if key == "external_id" and brand_ids is not None:
        key, lead = "brands", [value, sorted(brand_ids)]
    sql = _LOCK_BY[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*lead, currency, currency])
        rows = cursor.fetchall()
        if not rows:
            raise _player_not_found()
        player_id, player_currency, country, region, geo = next(
            (row[0], row[1], row[5], row[6], row[7]) for row in rows if row[0] is not None
        )
        if currency != player_currency:
            raise currency_mismatch(player_currency)
        if len(rows) < 7:
            params = [player_id, currency] * 3 + [currency] * 4
            cursor.execute(_CREATE_SQL, params)
            cursor.execute(sql, [*lead, currency, currency])
            rows = cursor.fetchall()
    mine = {row[3]: (row[2], row[4]) for row in rows if row[0] is not None}
    return _player_accounts(
        player_id,
        player_currency,
        currency,
        mine,
        {row[3]: row[2] for row in rows if row[0] is None},
        country=country,
        region=region,
        geo_version=geo,
    )


def _player_accounts(
    player_id: int,
    player_currency: str,
    currency: str,
    mine: dict[str, tuple[int, Decimal]],
    operator: dict[str, int],
    **place: Any,
) -> PlayerAccounts:
    """``mine``: kind -> (account id, balance) of the player's three accounts; ``place``: country, region and
    geo_version (the rollups' clock)."""
    return PlayerAccounts(
        player_id=player_id,
        player_currency=player_currency,
        currency=currency,
        cash_id=mine["cash"][0],
        cash=mine["cash"][1],
        bonus_id=mine["bonus"][0],
        bonus=mine["bonus"][1],
        pending_id=mine["pending_withdrawal"][0],
        pending=mine["pending_withdrawal"][1],
        operator=operator,
        **place,
    )


def lock_player_accounts(player_id: int, currency: str) -> PlayerAccounts:
    return lock_accounts(player_id, currency)


def refuse_unless(player: Player | int, action: str, **kwargs: Any) -> Eligibility:
    result = can(player, action, **kwargs)
    if not result.allowed:
        fields: dict[str, Any] = {"reasons": result.reasons}
        if "limits_reached" in result.restrictions:
            fields["limits"] = result.restrictions["limits_reached"]
        # a reason that names its own figure in the restrictions (bonus_max_bet: the maximum) carries it
        fields.update({r: result.restrictions[r] for r in result.reasons if r in result.restrictions})
        raise PostingRefused(f"Refused: {', '.join(result.reasons)}.", code=result.reasons[0], fields=fields)
    return result


_TXN_FIELDS = [f for f in LedgerTransaction._meta.concrete_fields if not f.primary_key]
_TXN_COLUMNS = ", ".join(str(f.column) for f in _TXN_FIELDS)
_TXN_VALUES = ", ".join(["%s"] * len(_TXN_FIELDS))
_TXN_TYPES = [(str(f.column), str(f.db_type(connection))) for f in _TXN_FIELDS]


# The arbiter is the partial unique index wallet_txn_reference_unique (api_client, reference, type): a second
# posting under a client's reference inserts nothing (and, being in the same statement, moves nothing).
_ON_DUPLICATE_REFERENCE = (
    "ON CONFLICT (api_client, reference, type) WHERE reference <> '' AND api_client <> '' DO NOTHING"
)


def _pairs(n: int) -> str:
    return ", ".join(["(%s::bigint, %s::numeric)"] * n)


def write(
    *,
    accounts: PlayerAccounts,
    type: str,
    amount: Decimal,
    legs: list[tuple[int, Decimal]],
    player_deltas: dict[int, Decimal],
    **fields: Any,
) -> Posted:
    """Insert the transaction and its entries, move the player's balances, add the posting to the player's day
    rollup, run the statement observers' statements and queue it for the durable consumers: one statement. Then
    the Python observers run.

    ``legs`` are (account id, signed amount) and must sum to zero; ``player_deltas`` the balance moves of the
    player's (locked) accounts. The database re-checks both: the deferred trigger at commit, the CHECK now.
    """
    after = accounts.after(player_deltas)
    if any(abs(balance) >= BALANCE_LIMIT for balance in after.values()):
        raise BalanceLimit(fields={"amount": ["The resulting balance would be too large."]})
    now = timezone.now()
    currency = accounts.currency
    txn = LedgerTransaction(
        type=type, player_id=accounts.player_id, currency=currency, amount=amount, created_at=now, **fields
    )
    params: list[Any] = [f.get_db_prep_save(getattr(txn, f.attname), connection) for f in _TXN_FIELDS]
    entries = [(account_id, value) for account_id, value in legs if value != 0]
    moves = [(account_id, delta) for account_id, delta in sorted(player_deltas.items()) if delta != 0]
    cash = player_deltas.get(accounts.cash_id, ZERO)
    bonus = abs(player_deltas.get(accounts.bonus_id, ZERO))
    # Only column names and placeholders are formatted in; every value is a parameter.
    sql = (
        f"WITH t AS (INSERT INTO wallet_transaction ({_TXN_COLUMNS}) VALUES ({_TXN_VALUES}) "  # noqa: S608
        f"{_ON_DUPLICATE_REFERENCE} RETURNING id)"
    )
    if entries:  # none for a win of 0 (a free spin that won nothing): the transaction alone records it
        sql += (
            ", e AS (INSERT INTO wallet_entry (transaction_id, account_id, amount, currency, created_at) "  # noqa: S608
            f"SELECT t.id, v.account_id, v.amount, %s, %s FROM t, "
            f"(VALUES {_pairs(len(entries))}) AS v(account_id, amount))"
        )
        params += [currency, now, *(x for entry in entries for x in entry)]
    if moves:
        sql += (
            f", u AS (UPDATE wallet_account a SET balance = a.balance + v.delta FROM (VALUES {_pairs(len(moves))}) "  # noqa: S608
            "AS v(id, delta), t WHERE a.id = v.id)"  # joined to t: no transaction inserted, no balance moved
        )
        params += [x for move in moves for x in move]
    rolled = rollups.deltas(type, amount=amount, cash=cash, bonus=bonus)
    if rolled:
        zone = rollups.zone_for(accounts.country, accounts.region, accounts.geo_version or 0, now)
        sql += ", " + _rollup_sql(tuple(rolled))
        params += [accounts.player_id, currency, rollups.day_of(now, zone), *rolled.values()]
    if events.has_statement_observers() or events.has_observers():
        event = _event(txn, abs(cash), bonus)  # transaction_id 0 until the insert names it
        for i, (part, part_params) in enumerate(events.statement_parts(event)):
            sql += f", o{i} AS ({part})"
            params += part_params
    queued = events.consumers_for(type)
    if queued:
        sql += (
            ", q AS (INSERT INTO wallet_posting_queue (consumer, transaction_id, player_id, cash_part, bonus_part, "
            "queued_at, attempts, last_error) SELECT c, t.id, %s, %s, %s, %s, 0, '' FROM t, unnest(%s::text[]) AS c)"
        )
        params += [accounts.player_id, abs(cash), bonus, now, queued]
    sql += " SELECT id FROM t"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchone()
    if inserted is None:  # the statement wrote nothing, so the caller's transaction is still usable
        raise DuplicateReference(fields={"reference": [f"This client already posted a {type} with this reference."]})
    txn.pk = inserted[0]
    txn._state.adding, txn._state.db = False, connection.alias
    if events.has_observers():
        events.observe(dataclasses.replace(event, transaction_id=txn.pk))
    if queued:
        events.nudge_after_commit()
    return Posted(transaction=txn, balances=after)


# --- many players at once (a campaign's chunk) -------------------------------------------------------------

# Every player's rows of the currency locked in account id order (the order single postings lock theirs, so the
# two never deadlock), with what places each on a clock, and the operator's rows, unlocked.
_LOCK_MANY_SQL = """
    WITH p AS (
        SELECT id, currency, country, region FROM players_player WHERE id = ANY(%s::bigint[])
    ),
    locked AS (
        SELECT a.id, a.player_id, a.kind, a.balance FROM wallet_account a
        WHERE a.player_id = ANY(%s::bigint[]) AND a.currency = %s ORDER BY a.id FOR UPDATE
    )
    SELECT p.id, p.currency, p.country, p.region, l.id, l.kind, l.balance FROM p
    LEFT JOIN locked l ON l.player_id = p.id
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, o.id, o.kind, o.balance FROM wallet_account o
    WHERE o.player_id IS NULL AND o.currency = %s
"""
_CREATE_MANY_SQL = """
    INSERT INTO wallet_account (player_id, kind, currency, balance)
    SELECT p, k, %s, 0 FROM unnest(%s::bigint[]) AS p, unnest(ARRAY['cash', 'bonus', 'pending_withdrawal']) AS k
    UNION ALL
    SELECT NULL, k, %s, 0 FROM unnest(ARRAY['house', 'payment_clearing', 'bonus_cost', 'adjustments']) AS k
    ON CONFLICT DO NOTHING
"""


def lock_many(player_ids: Collection[int], currency: str) -> dict[int, PlayerAccounts]:
    """``lock_accounts`` for many players in one round trip (two on their first use of the currency). Players
    whose wallet is in another currency, or who do not exist, are left out of the answer."""
    ids = sorted(set(player_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM geo_geoconfigversion WHERE id = 1")
        row = cursor.fetchone()
        geo = row[0] if row else None
        cursor.execute(_LOCK_MANY_SQL, [ids, ids, currency, currency])
        rows = cursor.fetchall()
        mine = [r for r in rows if r[0] is not None and r[1] == currency]
        counts: dict[int, int] = {}
        for r in mine:
            counts[r[0]] = counts.get(r[0], 0) + (1 if r[4] is not None else 0)
        operator = [r for r in rows if r[0] is None]
        missing = sorted(pid for pid, n in counts.items() if n < 3)
        if missing or len(operator) < 4:
            cursor.execute(_CREATE_MANY_SQL, [currency, missing, currency])
            cursor.execute(_LOCK_MANY_SQL, [ids, ids, currency, currency])
            rows = cursor.fetchall()
            mine = [r for r in rows if r[0] is not None and r[1] == currency]
            operator = [r for r in rows if r[0] is None]
    ops = {r[5]: r[4] for r in operator}
    found: dict[int, dict[str, Any]] = {}
    for pid, player_currency, country, region, account_id, kind, balance in mine:
        entry = found.setdefault(pid, {"currency": player_currency, "country": country, "region": region})
        entry[kind] = (account_id, balance)
    return {
        pid: _player_accounts(
            pid, e["currency"], currency, e, ops, country=e["country"] or "", region=e["region"] or "", geo_version=geo
        )
        for pid, e in found.items()
    }


@dataclass(frozen=True)
class Item:
    """One posting of a ``write_many`` batch: the player's locked accounts, the amount, the legs and the player's
    balance moves (as ``write`` takes them), and the transaction's other fields (``reference``...)."""

    accounts: PlayerAccounts
    amount: Decimal
    legs: list[tuple[int, Decimal]]
    player_deltas: dict[int, Decimal]
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)


def write_many(*, type: str, items: list[Item]) -> dict[int, Posted]:
    """``write`` for many players' postings of one type, at most one per player, in ONE statement: the
    transactions, their entries, the balance moves, the day rollups and the durable consumers' queue rows.
    Then the Python observers run, per posting. Player id -> its posting.

    A type with statement observers (the bet's wagering UPDATE) is not taken: those build one statement per
    posting; post them with ``write``. A reference used twice (client, reference, type) refuses the whole batch
    (``duplicate_reference``) after the statement: unlike ``write``'s, the caller's transaction must roll back
    (it does when the error leaves its ``atomic``)."""
    if not items:
        return {}
    if len({i.accounts.player_id for i in items}) != len(items):
        raise ValueError("write_many: at most one posting per player")
    currency = items[0].accounts.currency
    if any(i.accounts.currency != currency for i in items):
        raise ValueError("write_many: one currency")
    now = timezone.now()
    txns, rows = [], []
    for item in items:
        after = item.accounts.after(item.player_deltas)
        if any(abs(balance) >= BALANCE_LIMIT for balance in after.values()):
            raise BalanceLimit(fields={"amount": ["The resulting balance would be too large."]})
        txn = LedgerTransaction(
            type=type,
            player_id=item.accounts.player_id,
            currency=currency,
            amount=item.amount,
            created_at=now,
            **item.fields,
        )
        txns.append(txn)
        rows.append([getattr(txn, f.attname) for f in _TXN_FIELDS])  # text, numbers, times: the driver's own
    if any(events.statement_parts(_event(t, ZERO, ZERO)) for t in txns[:1]):
        raise ValueError(f"write_many: {type} postings have statement observers; post them one by one")
    legs = [(i.accounts.player_id, a, v) for i in items for a, v in i.legs if v != 0]
    moves = [(i.accounts.player_id, a, d) for i in items for a, d in sorted(i.player_deltas.items()) if d != 0]
    parts = {
        i.accounts.player_id: (
            i.player_deltas.get(i.accounts.cash_id, ZERO),
            abs(i.player_deltas.get(i.accounts.bonus_id, ZERO)),
        )
        for i in items
    }
    # Only column names and placeholders are formatted in; every value is a parameter.
    insert, params = insert_select("wallet_transaction", _TXN_TYPES, rows)
    sql = f"WITH t AS ({insert} {_ON_DUPLICATE_REFERENCE} RETURNING id, player_id)"
    if legs:
        sql += (
            ", e AS (INSERT INTO wallet_entry (transaction_id, account_id, amount, currency, created_at) "
            "SELECT t.id, v.account_id, v.amount, %s, %s FROM t "
            "JOIN unnest(%s::bigint[], %s::bigint[], %s::numeric[]) AS v(player_id, account_id, amount) "
            "ON v.player_id = t.player_id)"
        )
        params += [currency, now, *(list(column) for column in zip(*legs, strict=True))]
    if moves:
        sql += (
            ", u AS (UPDATE wallet_account a SET balance = a.balance + v.delta "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[]) AS v(player_id, id, delta) "
            "JOIN t ON t.player_id = v.player_id WHERE a.id = v.id)"
        )
        params += [list(column) for column in zip(*moves, strict=True)]
    rolled = {
        i.accounts.player_id: rollups.deltas(
            type, amount=i.amount, cash=parts[i.accounts.player_id][0], bonus=parts[i.accounts.player_id][1]
        )
        for i in items
    }
    columns = tuple(next(iter(rolled.values())))
    if columns:
        days = {
            i.accounts.player_id: rollups.day_of(
                now,
                rollups.zone_for(i.accounts.country, i.accounts.region, i.accounts.geo_version or 0, now),
            )
            for i in items
        }
        ids = sorted(rolled)
        names = ", ".join(columns)
        rest = [c for c in rollups.COLUMNS if c not in columns]
        arrays = ", ".join(f"%s::{'numeric' if c in rollups.MONEY_COLUMNS else 'integer'}[]" for c in columns)
        sql += (
            f", r AS (INSERT INTO wallet_player_day (player_id, currency, day, {names}"  # noqa: S608 (names only)
            f"{''.join(', ' + c for c in rest)}) "
            f"SELECT v.player_id, %s, v.day, {', '.join('v.' + c for c in columns)}{''.join(', 0' for _ in rest)} "
            f"FROM unnest(%s::bigint[], %s::date[], {arrays}) AS v(player_id, day, {names}) "
            "JOIN t ON t.player_id = v.player_id "
            f"ON CONFLICT (player_id, currency, day) DO UPDATE SET "
            f"{', '.join(f'{c} = wallet_player_day.{c} + EXCLUDED.{c}' for c in columns)})"
        )
        params += [currency, ids, [days[p] for p in ids], *([rolled[p][c] for p in ids] for c in columns)]
    queued = events.consumers_for(type)
    if queued:
        ids = sorted(parts)
        sql += (
            ", q AS (INSERT INTO wallet_posting_queue (consumer, transaction_id, player_id, cash_part, bonus_part, "
            "queued_at, attempts, last_error) SELECT c, t.id, t.player_id, abs(v.cash), v.bonus, %s, 0, '' FROM t "
            "JOIN unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS v(player_id, cash, bonus) "
            "ON v.player_id = t.player_id, unnest(%s::text[]) AS c)"
        )
        params += [now, ids, [parts[p][0] for p in ids], [parts[p][1] for p in ids], queued]
    sql += " SELECT id, player_id FROM t"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {player_id: txn_id for txn_id, player_id in cursor.fetchall()}
    if len(inserted) != len(items):  # the others did move: the error must roll the caller's transaction back
        raise DuplicateReference(fields={"reference": [f"A {type} with one of these references was already posted."]})
    posted: dict[int, Posted] = {}
    for item, txn in zip(items, txns, strict=True):
        pid = item.accounts.player_id
        txn.pk = inserted[pid]
        txn._state.adding, txn._state.db = False, connection.alias
        posted[pid] = Posted(transaction=txn, balances=item.accounts.after(item.player_deltas))
        if events.has_observers():
            events.observe(_event(txn, abs(parts[pid][0]), parts[pid][1]))
    if queued:
        events.nudge_after_commit()
    return posted


@functools.lru_cache(maxsize=64)
def _rollup_sql(columns: tuple[str, ...]) -> str:
    return rollups.upsert_sql(columns)


def _event(txn: LedgerTransaction, cash_part: Decimal, bonus_part: Decimal) -> events.PostingEvent:
    return events.PostingEvent(
        transaction_id=txn.pk or 0,
        type=txn.type,
        player_id=txn.player_id,
        currency=txn.currency,
        amount=txn.amount,
        cash_part=cash_part,
        bonus_part=bonus_part,
        game_id=txn.game_id,
        game_category=txn.game_category,
        provider=txn.provider,
        round_id=txn.round_id,
        payment_method=txn.payment_method,
        instrument_fingerprint=txn.instrument_fingerprint,
        api_client=txn.api_client,
        reverses_id=txn.reverses_id,
        created_at=txn.created_at,
    )


def deposit(
    *,
    player: PlayerRef,
    amount: Decimal,
    currency: str,
    api_client: str = "",
    reference: str = "",
    payment_method: str = "",
    instrument_fingerprint: str = "",
    brand_ids: Collection[int] | None = None,
) -> Posted:
    accounts = lock_accounts(player, currency, brand_ids=brand_ids)
    refuse_unless(accounts.player_id, "deposit", amount=amount)
    # an excluded person's card, whichever account pays with it (apps.responsible: one indexed lookup)
    if instrument_fingerprint and (reason := instrument_refusal(instrument_fingerprint)):
        raise PostingRefused(f"Refused: {reason}.", code=reason, fields={"reasons": [reason, "instrument_excluded"]})
    clearing = accounts.operator[AccountKind.PAYMENT_CLEARING]
    return write(
        accounts=accounts,
        type=TransactionType.DEPOSIT,
        amount=amount,
        legs=[(clearing, -amount), (accounts.cash_id, amount)],
        player_deltas={accounts.cash_id: amount},
        api_client=api_client,
        reference=reference,
        payment_method=payment_method,
        instrument_fingerprint=instrument_fingerprint,
    )


def bet(
    *,
    player: PlayerRef,
    amount: Decimal,
    currency: str,
    round_id: str,
    game_category: str,
    game_id: str = "",
    provider: str = "",
    api_client: str = "",
    reference: str = "",
    brand_ids: Collection[int] | None = None,
) -> Posted:
    """A stake: cash first, then bonus (bonus first where the jurisdiction's rule pack says so: its
    ``bonus_wagering_order``). Refused when eligibility says no (stake caps included). Every bet names its game
    category (``GameCategory``): the jurisdiction's stake caps are per category, and a bet the caps could not be
    applied to is not taken."""
    if game_category not in GAME_CATEGORIES:
        raise ValidationFailed(
            "A bet names its game category.",
            fields={"game_category": [f"Required, one of: {', '.join(GameCategory.values)}."]},
        )
    accounts = lock_accounts(player, currency, brand_ids=brand_ids)
    allowed = refuse_unless(accounts.player_id, "bet", amount=amount, game_category=game_category)
    if allowed.restrictions.get("wagering_order") == "bonus_first":
        from_bonus = min(amount, max(accounts.bonus, ZERO))
        from_cash = amount - from_bonus
        if from_cash > accounts.cash:
            available = quantize(accounts.cash + accounts.bonus, currency)
            raise InsufficientFunds(fields={"amount": [f"Available: {available} {currency}."]})
    else:
        from_cash = min(amount, accounts.cash)
        from_bonus = amount - from_cash
    if from_bonus > accounts.bonus:
        available = quantize(accounts.cash + accounts.bonus, currency)
        raise InsufficientFunds(fields={"amount": [f"Available: {available} {currency}."]})
    house = accounts.operator[AccountKind.HOUSE]
    return write(
        accounts=accounts,
        type=TransactionType.BET,
        amount=amount,
        legs=[(accounts.cash_id, -from_cash), (accounts.bonus_id, -from_bonus), (house, amount)],
        player_deltas={accounts.cash_id: -from_cash, accounts.bonus_id: -from_bonus},
        round_id=round_id,
        game_id=game_id,
        game_category=game_category,
        provider=provider,
        api_client=api_client,
        reference=reference,
    )


def _round_funding(accounts: PlayerAccounts, round_id: str, api_client: str) -> tuple[Decimal, Decimal]:
    """How much cash and bonus the round's bets still at stake took (rolled-back bets excluded). Only the
    client's own bets: a round id is the client's, another client cannot settle it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(sum(CASE WHEN e.account_id = %s THEN -e.amount END), 0),
                   coalesce(sum(CASE WHEN e.account_id = %s THEN -e.amount END), 0),
                   count(DISTINCT t.id)
            FROM wallet_transaction t JOIN wallet_entry e ON e.transaction_id = t.id
            WHERE t.player_id = %s AND t.round_id = %s AND t.currency = %s AND t.type = 'bet' AND t.api_client = %s
              AND NOT EXISTS (SELECT 1 FROM wallet_transaction r WHERE r.reverses_id = t.id)
            """,
            [accounts.cash_id, accounts.bonus_id, accounts.player_id, round_id, accounts.currency, api_client],
        )
        cash, bonus, bets = cursor.fetchone()
    if not bets:
        raise UnknownRound("No bet in this round.", fields={"round_id": ["No bet in this round."]})
    return Decimal(cash), Decimal(bonus)


def win(
    *,
    player: PlayerRef,
    amount: Decimal,
    currency: str,
    round_id: str,
    game_id: str = "",
    game_category: str = "",
    provider: str = "",
    api_client: str = "",
    reference: str = "",
    brand_ids: Collection[int] | None = None,
) -> Posted:
    """A win, credited to cash and bonus in the proportion that funded the round's bets (the same client's)."""
    accounts = lock_accounts(player, currency, brand_ids=brand_ids)
    staked_cash, staked_bonus = _round_funding(accounts, round_id, api_client)
    staked = staked_cash + staked_bonus
    to_bonus = quantize(amount * staked_bonus / staked, currency) if staked else ZERO
    to_cash = amount - to_bonus
    house = accounts.operator[AccountKind.HOUSE]
    return write(
        accounts=accounts,
        type=TransactionType.WIN,
        amount=amount,
        legs=[(house, -amount), (accounts.cash_id, to_cash), (accounts.bonus_id, to_bonus)],
        player_deltas={accounts.cash_id: to_cash, accounts.bonus_id: to_bonus},
        round_id=round_id,
        game_id=game_id,
        game_category=game_category,
        provider=provider,
        api_client=api_client,
        reference=reference,
    )


# The API calls the plain functions inside its own transaction (the idempotency record's); everyone else calls
# these, which open a transaction or a savepoint of their own.
wallet_deposit = transaction.atomic(deposit)
wallet_bet = transaction.atomic(bet)
wallet_win = transaction.atomic(win)


def format_balances(balances: dict[str, Decimal], currency: str) -> dict[str, str]:
    cash, bonus = balances.get("cash", ZERO), balances.get("bonus", ZERO)
    return {
        "currency": currency,
        "cash": str(quantize(cash, currency)),
        "bonus": str(quantize(bonus, currency)),
        "pending_withdrawal": str(quantize(balances.get("pending_withdrawal", ZERO), currency)),
        "playable": str(quantize(cash + bonus, currency)),
    }


def balances(player_id: int, currency: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT kind, balance FROM wallet_account WHERE player_id = %s AND currency = %s", [player_id, currency]
        )
        found = dict(cursor.fetchall())
    return format_balances(found, currency)


# Rollbacks (apps/wallet/reversal.py) and bonus money (apps/wallet/bonus_money.py) live in their own modules; callers
# find them here with the other postings. Resolved on first use (PEP 562), so either module may be imported first.
_BONUS = ("bonus_award", "bonus_convert", "bonus_forfeit")
_ELSEWHERE = {
    **dict.fromkeys(("rollback", "wallet_rollback"), "apps.wallet.reversal"),
    **dict.fromkeys((*_BONUS, *(f"wallet_{name}" for name in _BONUS)), "apps.wallet.bonus_money"),
}
if TYPE_CHECKING:
    from apps.wallet.bonus_money import (  # noqa: F401
        bonus_award,
        bonus_convert,
        bonus_forfeit,
        wallet_bonus_award,
        wallet_bonus_convert,
        wallet_bonus_forfeit,
    )
    from apps.wallet.reversal import rollback, wallet_rollback  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _ELSEWHERE:
        return getattr(importlib.import_module(_ELSEWHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
