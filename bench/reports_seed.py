"""The reports benchmark's ledger (issue 18): one UK quarter of postings, sent with COPY.

The period is the UK quarter 2026-Q1, April to June 2026 (91 local days on every player's clock). The players are
``BENCH_REPORTS_PLAYERS`` (100,000) demo players (``apps.players.demo``: GB, DE, SE, DK, NL, MT, CA-ON and US-NJ,
in GBP, EUR, SEK, DKK, CAD and USD, dates of birth from 19 to 75 years back); the same players at every ledger
size, so what grows from one size to the next is the ledger alone.

Each player is simulated day by day in minor units, so no balance ever goes below zero and every transaction is
one a real posting could have made: deposits (card or bank transfer), bets in one of five game categories (slots,
table, live, sports, poker) at two to four providers, paid from cash first and then from bonus money, wins credited
to cash and bonus in the proportion that funded the round, bet rollbacks (0.5 %) and win rollbacks (0.2 %), bonus
awards, conversions and forfeits, withdrawal requests paid, cancelled or left pending for a later day, and staff
adjustments. Activity is heavy-tailed (a few players play most); a player registered during the quarter plays from
registration on. The number of players active on a day is steered so the ledger ends near the size's number of
entries.

Rows go in day by day (UTC days, in time order, so ids and ``created_at`` grow together as on the posting path and
the BRIN indexes stay tight) with two COPYs per day, transactions then entries, with the ledger's triggers and
foreign-key checks bypassed (``session_replication_role = replica``). Then the player accounts' balances are set
to the sums of their entries, the id sequences moved past the rows, both day rollups rebuilt from the ledger
(``apps.wallet.rollups.rebuild_players``, ``apps.reports.rollups.rebuild`` a month at a time) and the result
checked: every transaction balances per currency, every balance equals its entries, the operator day rollups equal
a direct aggregation of the ledger (``apps.reports.rollups.check``) and the player day rollups' deposits, stakes and
wins equal the ledger's.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

PERIOD_START, PERIOD_END = date(2026, 4, 1), date(2026, 6, 30)  # UK 2026-Q1
PLAYERS = int(os.environ.get("BENCH_REPORTS_PLAYERS", "100000"))
SEED = 18
API_CLIENT = "benchplatform"

# category, share of rounds, providers, stakes (EUR cents), chance a round wins, return to player
GAMES = (
    ("slots", 55, ("netent", "pragmatic", "playngo", "hacksaw"), (20, 40, 50, 100, 200, 500), 0.35, 0.96),
    ("table", 10, ("evolution", "netent"), (100, 200, 500, 1000, 2500), 0.47, 0.985),
    ("live", 15, ("evolution", "pragmatic-live"), (100, 200, 500, 1000, 5000), 0.46, 0.975),
    ("sports", 12, ("kambi", "betradar"), (200, 500, 1000, 2000, 4000), 0.42, 0.93),
    ("poker", 8, ("ipoker",), (50, 100, 200, 500, 1000), 0.5, 0.95),
)
GAME_WEIGHTS = list(accumulate(g[1] for g in GAMES))
DAY_US = 86_400_000_000
TXN_COLUMNS = (
    "id, type, player_id, currency, amount, created_at, api_client, reference, round_id, game_id, game_category, "
    "provider, payment_method, instrument_fingerprint, staff_actor, reason, reverses_id"
)
ENTRY_COLUMNS = "id, transaction_id, account_id, amount, currency, created_at"

# A record of one transaction while its day is built: sorted by (time, sequence), then given its id.
TS, SEQ, TYPE, PLAYER, AMOUNT, LEGS, ROUND, CATEGORY, PROVIDER, PAYMENT, INSTRUMENT, STAFF, REVERSES, ID = range(14)


def money(minor: int) -> str:
    """Minor units as the numeric text COPY reads (every benchmark currency has two decimals)."""
    sign, minor = ("-", -minor) if minor < 0 else ("", minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def epoch_us(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


class Ledger:
    """The simulation: every player's balances in minor units, and the day's transactions."""

    def __init__(self, target_entries: int) -> None:
        self.rng = random.Random(SEED)
        self.target = target_entries
        self.rounds_mean = 8.0 * (target_entries / 10_000_000) ** 0.3  # longer sessions on a busier ledger
        self.entries = self.transactions = 0
        self._round = 0
        self._seq = 0
        self._load_players()

    # --- the players and their accounts

    def _load_players(self) -> None:
        from apps.reports.definitions.common import PLACES_CTE

        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH {PLACES_CTE} SELECT p.id, p.currency, p.created_at, pl.zone, pl.since, "
                "max(a.id) FILTER (WHERE a.kind = 'cash'), max(a.id) FILTER (WHERE a.kind = 'bonus'), "
                "max(a.id) FILTER (WHERE a.kind = 'pending_withdrawal') "
                "FROM players_player p JOIN places pl ON pl.player_id = p.id "
                "JOIN wallet_account a ON a.player_id = p.id AND a.currency = p.currency "
                "GROUP BY p.id, p.currency, p.created_at, pl.zone, pl.since ORDER BY p.id"
            )
            rows = cursor.fetchall()
            cursor.execute("SELECT currency, kind, id FROM wallet_account WHERE player_id IS NULL")
            self.operator = {(currency, kind): pk for currency, kind, pk in cursor.fetchall()}
        rates = {code: float(rate) for code, rate in settings.CURRENCY_RATES_PER_EUR.items()}
        self.ids, self.currency, self.rate, self.accounts, self.window = [], [], [], [], []
        for pid, currency, created, zone, since, cash, bonus, pending in rows:
            tz = ZoneInfo(zone) if since <= datetime.combine(PERIOD_START, datetime.min.time(), UTC) else UTC
            lo = datetime.combine(PERIOD_START, datetime.min.time(), tz)
            hi = datetime.combine(PERIOD_END + timedelta(days=1), datetime.min.time(), tz)
            self.ids.append(pid)
            self.currency.append(currency)
            self.rate.append(rates[currency])
            self.accounts.append((cash, bonus, pending))
            self.window.append((max(epoch_us(lo), epoch_us(created) + 60_000_000), epoch_us(hi)))
        n = len(self.ids)
        rng = self.rng
        self.weight = [min(rng.paretovariate(1.3), 60.0) for _ in range(n)]  # heavy-tailed activity
        self.favourite = [rng.choices(range(len(GAMES)), cum_weights=GAME_WEIGHTS)[0] for _ in range(n)]
        self.cash, self.bonus = [0] * n, [0] * n
        self.pending: list[list[int]] = [[] for _ in range(n)]

    def eur(self, i: int, cents: int) -> int:
        """EUR cents in player ``i``'s currency's minor units (at least one)."""
        return max(1, round(cents * self.rate[i]))

    # --- one player's day

    def _txn(
        self,
        out: list[list[Any]],
        i: int,
        type_: str,
        amount: int,
        legs: list[tuple[int, int]],
        *,
        round: str = "",
        category: str = "",
        provider: str = "",
        payment: str = "",
        instrument: str = "",
        staff: str = "",
        reverses: list[Any] | None = None,
    ) -> list[Any]:
        self._seq += 1
        record = [
            0,
            self._seq,
            type_,
            i,
            amount,
            legs,
            round,
            category,
            provider,
            payment,
            instrument,
            staff,
            reverses,
            0,
        ]
        out.append(record)
        return record

    def player_day(self, i: int, lo: int, hi: int, out: list[list[Any]]) -> None:
        """Player ``i``'s postings of one day, timed in [lo, hi) in their order."""
        rng, op, cur = self.rng, self.operator, self.currency[i]
        cash_id, bonus_id, pending_id = self.accounts[i]
        house, clearing = op[(cur, "house")], op[(cur, "payment_clearing")]
        cost, adjustments = op[(cur, "bonus_cost")], op[(cur, "adjustments")]
        cash, bonus = self.cash[i], self.bonus[i]
        day: list[list[Any]] = []
        for amount in self.pending[i]:  # withdrawals asked for on an earlier day
            if rng.random() < 0.9:
                self._txn(day, i, "withdrawal_paid", amount, [(pending_id, -amount), (clearing, amount)])
            else:
                self._txn(day, i, "withdrawal_cancel", amount, [(pending_id, -amount), (cash_id, amount)])
                cash += amount
        self.pending[i] = []

        def deposit() -> int:
            r = rng.random()
            amount = self.eur(
                i,
                rng.randint(1000, 10000)
                if r < 0.7
                else rng.randint(10000, 50000)
                if r < 0.95
                else rng.randint(50000, 200000),
            )
            card = rng.random() < 0.75
            self._txn(
                day,
                i,
                "deposit",
                amount,
                [(clearing, -amount), (cash_id, amount)],
                payment="card" if card else "bank_transfer",
                instrument=f"{self.ids[i]:016x}{rng.randint(0, 2):048x}" if card else "",
            )
            return amount

        if cash + bonus < self.eur(i, 500) or rng.random() < 0.3:
            cash += deposit()
        if bonus == 0 and rng.random() < 0.05:
            award = self.eur(i, rng.choice((1000, 2000, 5000, 10000)))
            self._txn(day, i, "bonus_award", award, [(cost, -award), (bonus_id, award)])
            bonus += award
        rounds = 1 + int(rng.expovariate(1 / max(self.rounds_mean - 1, 0.5)))
        deposits = 1
        for _ in range(rounds):
            g = self.favourite[i] if rng.random() < 0.8 else rng.choices(range(len(GAMES)), cum_weights=GAME_WEIGHTS)[0]
            category, _share, providers, stakes, p_win, rtp = GAMES[g]
            stake = self.eur(i, rng.choice(stakes))
            if stake > cash + bonus:
                if deposits >= 3 or rng.random() < 0.5:
                    break
                cash += deposit()
                deposits += 1
                if stake > cash + bonus:
                    break
            from_cash = min(stake, cash)
            from_bonus = stake - from_cash
            cash, bonus = cash - from_cash, bonus - from_bonus
            self._round += 1
            game: dict[str, Any] = {"round": f"r{self._round}", "category": category, "provider": rng.choice(providers)}
            bet = self._txn(
                day, i, "bet", stake, [(cash_id, -from_cash), (bonus_id, -from_bonus), (house, stake)], **game
            )
            if rng.random() < 0.005:
                self._txn(
                    day,
                    i,
                    "rollback",
                    stake,
                    [(cash_id, from_cash), (bonus_id, from_bonus), (house, -stake)],
                    reverses=bet,
                    **game,
                )
                cash, bonus = cash + from_cash, bonus + from_bonus
                continue
            if rng.random() < p_win:
                won = max(1, int(stake * rng.expovariate(p_win / rtp)))
                to_bonus = round(won * from_bonus / stake)
                to_cash = won - to_bonus
                win = self._txn(day, i, "win", won, [(house, -won), (cash_id, to_cash), (bonus_id, to_bonus)], **game)
                cash, bonus = cash + to_cash, bonus + to_bonus
                if rng.random() < 0.002 and cash >= to_cash and bonus >= to_bonus:
                    self._txn(
                        day,
                        i,
                        "win_rollback",
                        won,
                        [(house, won), (cash_id, -to_cash), (bonus_id, -to_bonus)],
                        reverses=win,
                        **game,
                    )
                    cash, bonus = cash - to_cash, bonus - to_bonus
        if bonus > 0:
            r = rng.random()
            if r < 0.2:
                self._txn(day, i, "bonus_convert", bonus, [(bonus_id, -bonus), (cash_id, bonus)])
                cash, bonus = cash + bonus, 0
            elif r < 0.4:
                self._txn(day, i, "bonus_forfeit", bonus, [(bonus_id, -bonus), (cost, bonus)])
                bonus = 0
        if cash > self.eur(i, 5000) and rng.random() < 0.1:
            amount = int(cash * rng.uniform(0.3, 1.0))
            self._txn(day, i, "withdrawal", amount, [(cash_id, -amount), (pending_id, amount)], payment="card")
            cash -= amount
            r = rng.random()
            if r < 0.45:
                self._txn(day, i, "withdrawal_paid", amount, [(pending_id, -amount), (clearing, amount)])
            elif r < 0.5:
                self._txn(day, i, "withdrawal_cancel", amount, [(pending_id, -amount), (cash_id, amount)])
                cash += amount
            else:
                self.pending[i].append(amount)
        if rng.random() < 0.002:
            amount = self.eur(i, rng.choice((500, 1000, 2500)))
            if cash >= amount and rng.random() < 0.3:
                legs = [(cash_id, -amount), (adjustments, amount)]
                cash -= amount
            else:
                legs = [(adjustments, -amount), (cash_id, amount)]
                cash += amount
            self._txn(day, i, "adjustment", amount, legs, staff="bench-finance")
        self.cash[i], self.bonus[i] = cash, bonus
        times = sorted(rng.randrange(lo, hi) for _ in day)
        for record, at in zip(day, times, strict=True):
            record[TS] = at
        out.extend(day)


def _format_day(ledger: Ledger, records: list[list[Any]], first_id: int, first_entry: int) -> tuple[str, str, int]:
    """The day's COPY texts for transactions and entries; the number of entries."""
    records.sort(key=lambda r: (r[TS], r[SEQ]))
    txns, entries = [], []
    entry_id = first_entry
    stamp_cache: dict[int, str] = {}
    for n, record in enumerate(records):
        tid = first_id + n
        record[ID] = tid
        at = record[TS]
        second, micro = divmod(at, 1_000_000)
        stamp = stamp_cache.get(second)
        if stamp is None:
            stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")
            stamp_cache[second] = stamp
        created = f"{stamp}.{micro:06d}+00"
        i = record[PLAYER]
        currency = ledger.currency[i]
        reverses = record[REVERSES]
        client = API_CLIENT if record[ROUND] else ""
        txns.append(
            f"{tid}\t{record[TYPE]}\t{ledger.ids[i]}\t{currency}\t{money(record[AMOUNT])}\t{created}\t{client}\t\t"
            f"{record[ROUND]}\t\t{record[CATEGORY]}\t{record[PROVIDER]}\t{record[PAYMENT]}\t{record[INSTRUMENT]}\t"
            f"{record[STAFF]}\t{'bench adjustment' if record[STAFF] else ''}\t"
            f"{reverses[ID] if reverses is not None else chr(92) + 'N'}"
        )
        for account, amount in record[LEGS]:
            if amount:
                entry_id += 1
                entries.append(f"{entry_id}\t{tid}\t{account}\t{money(amount)}\t{currency}\t{created}")
    return "\n".join(txns) + "\n", "\n".join(entries) + "\n", entry_id - first_entry


def _utc_days() -> list[int]:
    """The UTC days holding the quarter's local days on every clock (one more each side)."""
    first = datetime.combine(PERIOD_START - timedelta(days=1), datetime.min.time(), UTC)
    last = datetime.combine(PERIOD_END + timedelta(days=1), datetime.min.time(), UTC)
    return [epoch_us(first) + k * DAY_US for k in range((last - first).days + 1)]


def seed_ledger(target_entries: int, log: Any = print) -> dict[str, int]:
    """Simulate and COPY the quarter; returns the counts."""
    ledger = Ledger(target_entries)
    days = _utc_days()
    # Each day's share of the target: the players' hours of that day inside their quarter, weighted by activity.
    capacity = []
    for start in days:
        end = start + DAY_US
        capacity.append(
            sum(
                w * (min(end, hi) - max(start, lo))
                for w, (lo, hi) in zip(ledger.weight, ledger.window, strict=True)
                if lo < end and hi > start
            )
        )
    total_capacity = sum(capacity)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM wallet_transaction")
        next_txn = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM wallet_entry")
        last_entry = cursor.fetchone()[0]
    per_player_day = 2.0 + ledger.rounds_mean * 2.9  # a first guess, then what the days have shown
    player_days = 0
    started = time.perf_counter()
    reached = 0.0
    for k, start in enumerate(days):
        end = start + DAY_US
        reached += capacity[k]
        need = target_entries * reached / total_capacity - ledger.entries
        eligible = [i for i, (lo, hi) in enumerate(ledger.window) if lo < end - 60_000_000 and hi > start + 60_000_000]
        count = max(0, round(need / per_player_day))
        records: list[list[Any]] = []
        if eligible and count:
            weights = list(accumulate(ledger.weight[i] for i in eligible))
            chosen = list(dict.fromkeys(ledger.rng.choices(eligible, cum_weights=weights, k=int(count * 1.3) + 1)))
            for i in chosen[:count]:
                lo, hi = ledger.window[i]
                ledger.player_day(i, max(lo, start), min(hi, end), records)
                player_days += 1
        txns, entries, n_entries = _format_day(ledger, records, next_txn, last_entry)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # no per-row triggers, no FK checks
            raw = cursor.cursor
            if records:
                with raw.copy(f"COPY wallet_transaction ({TXN_COLUMNS}) FROM STDIN") as copy:
                    copy.write(txns)
                with raw.copy(f"COPY wallet_entry ({ENTRY_COLUMNS}) FROM STDIN") as copy:
                    copy.write(entries)
        next_txn += len(records)
        last_entry += n_entries
        ledger.entries += n_entries
        ledger.transactions += len(records)
        if player_days:
            per_player_day = ledger.entries / player_days
        if k % 10 == 9 or k == len(days) - 1:
            log(
                f"  day {k + 1}/{len(days)}: {ledger.transactions:,} transactions, {ledger.entries:,} entries "
                f"in {time.perf_counter() - started:.0f} s"
            )
    return {"transactions": ledger.transactions, "entries": ledger.entries, "player_days": player_days}


# --- the whole seeding, once per database


def _scalar(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        row = cursor.fetchone()
    return row[0] if row else None


def seeded() -> dict[str, Any] | None:
    """The seed's row once the seeding finished (None before)."""
    if _scalar("SELECT to_regclass('bench_reports_seed')") is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT target, transactions, entries, players, player_days, seconds FROM bench_reports_seed")
        row = cursor.fetchone()
    keys = ("target", "transactions", "entries", "players", "player_days", "seconds")
    return dict(zip(keys, row, strict=True)) if row else None


def _accounts() -> None:
    """Every player's three accounts in their currency, and the operator's four per currency, balances 0."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wallet_account (player_id, kind, currency, balance) "
            "SELECT p.id, k, p.currency, 0 FROM players_player p "
            "CROSS JOIN unnest(ARRAY['cash', 'bonus', 'pending_withdrawal']) k ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO wallet_account (player_id, kind, currency, balance) "
            "SELECT NULL, k, c.currency, 0 FROM (SELECT DISTINCT currency FROM players_player) c "
            "CROSS JOIN unnest(ARRAY['house', 'payment_clearing', 'bonus_cost', 'adjustments']) k "
            "ON CONFLICT DO NOTHING"
        )


def _finish(log: Any) -> None:
    from apps.reports import rollups as operator_days
    from apps.wallet import rollups as player_days

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_account a SET balance = s.total FROM ("
            "  SELECT account_id, sum(amount) AS total FROM wallet_entry GROUP BY account_id"
            ") s WHERE a.id = s.account_id AND a.player_id IS NOT NULL"
        )
        for table in ("wallet_transaction", "wallet_entry"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    for table in ("wallet_transaction", "wallet_entry", "wallet_account"):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")
    log(f"  balances set, tables vacuumed in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    for _last, _rows in player_days.build(batch=2000):
        pass
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE wallet_player_day")
    log(f"  player day rollups rebuilt in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    first, last = PERIOD_START - timedelta(days=1), PERIOD_END + timedelta(days=1)
    for month_start, month_end in operator_days.months(first, last):
        operator_days.rebuild(month_start, month_end)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_operator_day")
    log(f"  operator day rollups rebuilt in {time.perf_counter() - started:.0f} s")


def verify(log: Any = print) -> None:
    """What the ledger's triggers would have refused and what ``ledger_verify`` and both rollup checks say."""
    from apps.reports import rollups as operator_days

    started = time.perf_counter()
    unbalanced = _scalar(
        "SELECT count(*) FROM (SELECT transaction_id FROM wallet_entry GROUP BY transaction_id, currency "
        "HAVING sum(amount) <> 0) u"
    )
    orphans = _scalar(
        "SELECT count(*) FROM wallet_transaction t WHERE NOT EXISTS "
        "(SELECT 1 FROM wallet_entry e WHERE e.transaction_id = t.id)"
    )
    wrong = _scalar(
        "SELECT count(*) FROM wallet_account a LEFT JOIN ("
        "  SELECT account_id, sum(amount) AS total FROM wallet_entry GROUP BY account_id"
        ") e ON e.account_id = a.id WHERE a.player_id IS NOT NULL AND a.balance <> coalesce(e.total, 0)"
    )
    negative = _scalar("SELECT count(*) FROM wallet_account WHERE balance < 0")
    ledger_sums = _scalar(
        "SELECT ARRAY[coalesce(sum(amount) FILTER (WHERE type = 'deposit'), 0), "
        "coalesce(sum(CASE type WHEN 'bet' THEN amount WHEN 'rollback' THEN -amount END), 0), "
        "coalesce(sum(CASE type WHEN 'win' THEN amount WHEN 'win_rollback' THEN -amount END), 0)] "
        "FROM wallet_transaction"
    )
    day_sums = _scalar("SELECT ARRAY[sum(deposits), sum(stakes), sum(wins)] FROM wallet_player_day")
    mismatches = operator_days.check(limit=10)
    assert unbalanced == 0, f"{unbalanced} seeded transactions do not balance"
    assert orphans == 0, f"{orphans} transactions without entries"
    assert wrong == 0 and negative == 0, f"{wrong} balances differ from their entries, {negative} negative"
    assert ledger_sums == day_sums, f"player day rollups {day_sums} != ledger {ledger_sums}"
    assert not mismatches, "operator day rollups differ from the ledger: " + "; ".join(map(str, mismatches))
    log(
        "  seeded ledger verified: every transaction balances, balances = entries, player day rollups = ledger "
        f"(deposits, stakes, wins), operator day rollups = ledger (check): {time.perf_counter() - started:.0f} s"
    )


def ensure_seeded(target_entries: int, log: Any = print) -> dict[str, Any]:
    """Seed this (empty) database once: players, accounts, the quarter's ledger, rollups, checks. A database
    whose seeding was interrupted is dropped by the caller and made again (``bench.reports``)."""
    found = seeded()
    if found is not None:
        return found
    from apps.audit.services import SystemActor
    from apps.players.demo import seed_players, vacuum_players

    assert _scalar("SELECT count(*) FROM wallet_transaction") == 0, "an interrupted seeding: drop the database"
    started = time.perf_counter()
    log(f"seeding {PLAYERS:,} players and a {target_entries:,}-entry ledger for {PERIOD_START}..{PERIOD_END} (once)")
    seed_players(PLAYERS, actor=SystemActor("bench"))
    vacuum_players()
    _accounts()
    log(f"  players and accounts in {time.perf_counter() - started:.0f} s")
    counts = seed_ledger(target_entries, log)
    _finish(log)
    verify(log)
    seconds = round(time.perf_counter() - started)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_reports_seed (target bigint, transactions bigint, entries bigint, players int, "
            "player_days bigint, seconds int)"
        )
        cursor.execute(
            "INSERT INTO bench_reports_seed VALUES (%s, %s, %s, %s, %s, %s)",
            [target_entries, counts["transactions"], counts["entries"], PLAYERS, counts["player_days"], seconds],
        )
    log(f"  seeded in {seconds} s")
    found = seeded()
    assert found is not None
    return found
