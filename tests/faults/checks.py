"""What every fault test asserts afterwards, read from the private database (as its superuser) and the receiver:
no posting lost or doubled, balances equal to the driver's 2xx postings, ``manage.py ledger_verify``, and every
webhook event delivered, in order per player."""

from __future__ import annotations

import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from tests.faults.driver import BET, Answer, Driver
from tests.faults.stack import SEED_DEPOSIT, Stack


def ledger_problems(stack: Stack, driver: Driver, players: list[dict[str, str]]) -> list[str]:
    """Every 2xx posting is in the ledger exactly once (the id the driver was given); every refused or
    unresolved one is absent; each player's cash is the seed deposit less the 2xx bets. Empty when all holds."""
    problems: list[str] = []
    intents = [i for i in driver.intents if i.op == "post"]
    rows = stack.pg.sql(
        "SELECT round_id, array_agg(id ORDER BY id) FROM wallet_transaction WHERE round_id = ANY(%s) GROUP BY round_id",
        [[i.key for i in intents]],
    )
    in_ledger: dict[str, list[int]] = dict(rows)
    for intent in intents:
        ids = in_ledger.get(intent.key, [])
        if intent.succeeded:
            if len(ids) != 1:
                problems.append(f"posting {intent.key} answered 2xx but is in the ledger {len(ids)} times {ids}")
            elif intent.transaction_ids != set(ids):
                problems.append(f"posting {intent.key}: answered ids {sorted(intent.transaction_ids)}, ledger {ids}")
        elif intent.final is not None:
            if ids:
                problems.append(f"posting {intent.key} was refused ({intent.final.status}) but is in the ledger {ids}")
        elif len(ids) > 1:
            problems.append(f"posting {intent.key} (never answered 2xx) is in the ledger {len(ids)} times")
    unresolved = [i.key for i in intents if i.final is None]
    if unresolved:
        problems.append(f"{len(unresolved)} postings never got a final answer: {unresolved[:5]}")
    bets: dict[str, int] = defaultdict(int)
    for intent in intents:
        if intent.succeeded:
            bets[intent.player] += 1
    balances = dict(
        stack.pg.sql(
            "SELECT p.external_id, a.balance FROM wallet_account a JOIN players_player p ON p.id = a.player_id "
            "WHERE a.kind = 'cash' AND p.external_id = ANY(%s)",
            [[p["id"] for p in players]],
        )
    )
    for player in players:
        expected = Decimal(SEED_DEPOSIT) - BET * bets[player["id"]]
        if balances.get(player["id"]) != expected:
            problems.append(
                f"{player['id']}: cash {balances.get(player['id'])}, the seed deposit less its 2xx bets is {expected}"
            )
    return problems


def ledger_verify(stack: Stack) -> str:
    """``manage.py ledger_verify`` against the private database; '' when it passes, else its output."""
    result = stack.manage("ledger_verify", check=False)
    return "" if result.returncode == 0 else (result.stdout + result.stderr)[-2000:]


def delivery_state(stack: Stack, players: list[dict[str, str]]) -> dict[str, Any]:
    rows = stack.pg.sql(
        "SELECT e.id, e.key, d.status FROM core_outboxevent e LEFT JOIN core_outboxdelivery d ON d.event_id = e.id "
        "WHERE e.key = ANY(%s) ORDER BY e.id",
        [[p["id"] for p in players]],
    )
    return {
        "events": sorted({r[0] for r in rows}),
        "by_key": {k: sorted({r[0] for r in rows if r[1] == k}) for k in {r[1] for r in rows}},
        "undelivered": sorted(r[0] for r in rows if r[2] != "delivered"),
        "dead": sorted(r[0] for r in rows if r[2] == "dead"),
        "no_delivery": sorted(r[0] for r in rows if r[2] is None),
    }


def wait_for_deliveries(
    stack: Stack, players: list[dict[str, str]], timeout: float
) -> tuple[float | None, dict[str, Any]]:
    """Wait until every event for ``players`` reached the receiver; returns (monotonic time when the last
    arrived or None if not within ``timeout``, the state)."""
    deadline = time.monotonic() + timeout
    while True:
        state = delivery_state(stack, players)
        received = {r.event_id for r in stack.receiver.snapshot()}
        missing = sorted(set(state["events"]) - received)
        state["missing"] = missing
        if not missing and not state["undelivered"]:
            arrivals = [r.at for r in stack.receiver.snapshot() if r.event_id in set(state["events"])]
            return (max(arrivals) if arrivals else time.monotonic()), state
        if time.monotonic() > deadline:
            return None, state
        time.sleep(0.25)


def outbox_problems(stack: Stack, driver: Driver, players: list[dict[str, str]], state: dict[str, Any]) -> list[str]:
    """Each 2xx limit change made one event; every event reached the receiver; first arrivals in id order per
    player; nothing dead."""
    problems = []
    made: dict[str, int] = defaultdict(int)
    for intent in driver.succeeded("limit"):
        made[intent.player] += 1
    for player in players:
        events = state["by_key"].get(player["id"], [])
        if len(events) != made[player["id"]]:
            problems.append(f"{player['id']}: {made[player['id']]} limit changes answered 2xx, {len(events)} events")
    if state.get("missing"):
        problems.append(f"{len(state['missing'])} events never reached the receiver: {state['missing'][:10]}")
    if state["dead"]:
        problems.append(f"{len(state['dead'])} deliveries dead: {state['dead'][:10]}")
    first_seen: dict[str, list[int]] = defaultdict(list)
    seen: set[int] = set()
    for item in stack.receiver.snapshot():
        if item.event_id not in seen:
            seen.add(item.event_id)
            first_seen[item.player].append(item.event_id)
    for key, ids in first_seen.items():
        if ids != sorted(ids):
            problems.append(f"{key}: events arrived out of order {ids}")
    return problems


def duplicates(stack: Stack, players: list[dict[str, str]]) -> int:
    keys = {p["id"] for p in players}
    ids = [r.event_id for r in stack.receiver.snapshot() if r.player in keys]
    return len(ids) - len(set(ids))


def readyz_in(driver: Driver, start: float, end: float) -> list[tuple[float, int | None, dict[str, Any]]]:
    with driver._lock:
        return [r for r in driver.readyz if start <= r[0] < end]


def bad_503s(answers: list[Answer]) -> list[Answer]:
    """Failures that are not a proper 'retry later': anything but 503 service_unavailable with Retry-After."""
    return [
        a
        for a in Driver.failures(answers)
        if not (a.status == 503 and a.retry_after and a.code == "service_unavailable")
    ]


def first_success_after(driver: Driver, t: float, op: str = "post") -> float | None:
    with driver._lock:
        times = [a.at for a in driver.answers if a.op == op and a.at >= t and a.status is not None and a.status < 300]
    return min(times) - t if times else None


def last_failure_after(
    driver: Driver, t: float, ops: tuple[str, ...] = ("post", "eligibility", "balance")
) -> float | None:
    failures = Driver.failures(driver.window(t, float("inf"), ops))
    return max(a.at for a in failures) - t if failures else None
