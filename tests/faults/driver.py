"""A bounded load driver for the fault tests: threads posting bets with an Idempotency-Key (retrying the same key,
the same body, until a final answer), reading eligibility and balances, and optionally setting deposit limits
(each a decrease, applied at once, so each emits one ``limits.changed`` webhook event). Every answer is recorded
with its time, so a test can ask what happened in any window around its fault; a ``/readyz`` monitor records
what readiness said meanwhile.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

BET = Decimal("0.10")
TIMEOUT = (2.0, 20.0)  # connect, read: longer than the pool's 10 s wait for a connection
RETRY_PAUSE = 0.1
FINAL = (200, 201, 202)


@dataclass
class Answer:
    at: float  # time.monotonic() when the answer arrived
    op: str  # post, limit, eligibility, balance
    status: int | None  # None: no HTTP answer (refused, reset, timed out)
    seconds: float
    key: str = ""
    code: str = ""
    retry_after: str | None = None
    error: str = ""


@dataclass
class Intent:
    """One posting (or limit change) the driver means to make exactly once, under one Idempotency-Key."""

    key: str
    op: str
    player: str
    path: str
    body: dict[str, Any]
    answers: list[Answer] = field(default_factory=list)
    final: Answer | None = None
    transaction_ids: set[int] = field(default_factory=set)

    @property
    def succeeded(self) -> bool:
        return self.final is not None and self.final.status in FINAL

    def __repr__(self) -> str:
        last = self.answers[-1] if self.answers else None
        seen = f"{len(self.answers)} tries, last {last.status if last and last.status else last and last.error}"
        return f"<{self.op} {self.key} {self.player}: {seen}>"


class Driver:
    def __init__(
        self,
        base_url: str,
        key: str,
        players: list[dict[str, str]],
        *,
        threads: int = 4,
        event_players: list[dict[str, str]] | None = None,
        pace: float = 0.0,
    ) -> None:
        self.base_url, self.api_key = base_url, key
        self.players, self.event_players = players, event_players or []
        self.threads = threads
        self.pace = pace
        self.answers: list[Answer] = []
        self.intents: list[Intent] = []
        # (when it was asked, status, body): a check against a dead broker takes ~2 s, so the answer's own time
        # would put it outside a short outage's window
        self.readyz: list[tuple[float, int | None, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.events_paused = threading.Event()  # set: the limit thread makes no new changes (no new nudges)
        self._workers: list[threading.Thread] = []
        self._run = uuid.uuid4().hex[:8]
        self._counter = itertools.count()
        self._limit_values = {p["id"]: Decimal("90000.00") for p in self.event_players}
        self.started_at = 0.0

    # --- running ----------------------------------------------------------------------------------------

    def start(self) -> Driver:
        self.started_at = time.monotonic()
        for n in range(self.threads):
            mine = self.players[n :: self.threads]
            self._workers.append(threading.Thread(target=self._load, args=(mine,), daemon=True))
        if self.event_players:
            self._workers.append(threading.Thread(target=self._limits, daemon=True))
        self._workers.append(threading.Thread(target=self._ready, daemon=True))
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def __enter__(self) -> Driver:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Api-Key {self.api_key}"
        return session

    def _call(self, session: requests.Session, op: str, method: str, path: str, **kwargs: Any) -> Answer:
        return self._request(session, op, method, path, **kwargs)[0]

    def _request(self, session: requests.Session, op: str, method: str, path: str, **kwargs: Any) -> tuple[Answer, Any]:
        started = time.monotonic()
        body: Any = None
        try:
            response = session.request(method, self.base_url + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            answer = Answer(time.monotonic(), op, None, time.monotonic() - started, error=type(exc).__name__)
        else:
            code = ""
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code >= 400:
                code = str(body.get("code", "")) if isinstance(body, dict) else "(not json)"
            answer = Answer(
                time.monotonic(),
                op,
                response.status_code,
                time.monotonic() - started,
                code=code,
                retry_after=response.headers.get("Retry-After"),
            )
        with self._lock:
            self.answers.append(answer)
        return answer, body

    def _attempt(self, session: requests.Session, intent: Intent) -> bool:
        """One try of an intent; True when its answer is final (2xx or a refusal a retry cannot change)."""
        headers = {"Idempotency-Key": intent.key}
        answer, body = self._request(session, intent.op, "POST", intent.path, json=intent.body, headers=headers)
        answer.key = intent.key
        intent.answers.append(answer)
        if intent.op == "post" and answer.status in FINAL and isinstance(body, dict):
            intent.transaction_ids.add(int(body["transaction"]["id"]))
        if answer.status is not None and (answer.status < 500 and answer.status != 429):
            intent.final = answer
            return True
        return False

    def _pursue(self, session: requests.Session, intent: Intent) -> None:
        """Retry the same key until a final answer or until the driver stops (settle() finishes the rest)."""
        while not self._attempt(session, intent):
            if self._stop.is_set():
                return
            last = intent.answers[-1]
            pause = RETRY_PAUSE
            if last.retry_after:
                with contextlib.suppress(ValueError):
                    pause = min(1.0, max(RETRY_PAUSE, float(last.retry_after)))
            time.sleep(pause)

    def _new_intent(self, op: str, player: str, path: str, body: dict[str, Any]) -> Intent:
        key = f"faults-{self._run}-{next(self._counter)}"
        if op == "post":
            body = {**body, "round_id": key}
        intent = Intent(key=key, op=op, player=player, path=path, body=body)
        with self._lock:
            self.intents.append(intent)
        return intent

    def _load(self, players: list[dict[str, str]]) -> None:
        session = self._session()
        for player in itertools.cycle(players):
            if self._stop.is_set():
                return
            pid = player["id"]
            body = {
                "type": "bet",
                "player": pid,
                "amount": str(BET),
                "currency": player["currency"],
                "game_category": "table",
            }
            self._pursue(session, self._new_intent("post", pid, "/api/v1/wallet/transactions/", body))
            self._call(
                session,
                "eligibility",
                "GET",
                f"/api/v1/players/{pid}/eligibility/?action=bet&amount=0.10&game_category=table",
            )
            self._call(session, "balance", "GET", f"/api/v1/players/{pid}/balance/")
            if self.pace:
                time.sleep(self.pace)

    def _limits(self) -> None:
        """Deposit limits lowered by 1.00 each time (a decrease applies at once): one webhook event per 2xx."""
        session = self._session()
        for player in itertools.cycle(self.event_players):
            if self._stop.is_set():
                return
            if self.events_paused.is_set():
                time.sleep(0.1)
                continue
            pid = player["id"]
            self._limit_values[pid] -= 1
            body = {"kind": "deposit", "period": "month", "value": str(self._limit_values[pid])}
            self._pursue(
                session, self._new_intent("limit", pid, f"/api/v1/players/{pid}/responsible-gambling/limits/", body)
            )
            time.sleep(0.05)

    def _ready(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            started = time.monotonic()
            entry: tuple[float, int | None, dict[str, Any]]
            try:
                response = session.get(self.base_url + "/readyz", timeout=(1, 10))
                body = (
                    response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
                )
                entry = (started, response.status_code, {**body, "_answered_at": time.monotonic()})
            except (requests.RequestException, ValueError) as exc:
                entry = (started, None, {"error": type(exc).__name__, "_answered_at": time.monotonic()})
            with self._lock:
                self.readyz.append(entry)
            time.sleep(max(0.0, 0.25 - (time.monotonic() - started)))

    def settle(self, timeout: float = 60) -> list[Intent]:
        """After the load: finish every intent left without a final answer (same key, same body); returns those
        still unresolved after ``timeout`` (a posting whose fate the driver never learnt)."""
        session = self._session()
        deadline = time.monotonic() + timeout
        pending = [i for i in self.intents if i.final is None]
        while pending and time.monotonic() < deadline:
            for intent in pending:
                self._attempt(session, intent)
            pending = [i for i in pending if i.final is None]
            if pending:
                time.sleep(0.25)
        return pending

    # --- what happened ------------------------------------------------------------------------------------

    def window(
        self, start: float, end: float, ops: tuple[str, ...] = ("post", "eligibility", "balance", "limit")
    ) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if start <= a.at < end and a.op in ops]

    @staticmethod
    def failures(answers: list[Answer]) -> list[Answer]:
        """5xx, 429 and no-answer: what a client sees as 'the service failed me'."""
        return [a for a in answers if a.status is None or a.status >= 500 or a.status == 429]

    @staticmethod
    def summary(answers: list[Answer]) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for a in answers:
            label = f"{a.op} {a.status if a.status is not None else a.error}"
            if a.code and a.status and a.status >= 400:
                label += f" {a.code}"
            if a.status == 503 and not a.retry_after:
                label += " (no Retry-After)"
            counts[label] += 1
        return dict(sorted(counts.items()))

    def succeeded(self, op: str) -> list[Intent]:
        return [i for i in self.intents if i.op == op and i.succeeded]
