"""Backtests: a candidate version replayed over the period's postings beside the live version, the live version's
replay reproducing its real alerts, the history's precision, resuming from the cursor, and the refusals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.compliance import backtest, cases
from apps.compliance.choices import Outcome, VersionMode, VersionState
from apps.compliance.models import Alert, Rule, RuleVersion
from apps.core.errors import ApplicationError
from apps.core.jobs import job_run_slice
from apps.core.models import JobStatus
from apps.staff import roles
from apps.wallet import events, posting
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def analyst():
    return StaffUserFactory(roles=[roles.AML_ANALYST])


def live_of(code: str) -> RuleVersion:
    return RuleVersion.objects.get(rule__code=code, state=VersionState.PUBLISHED, mode=VersionMode.LIVE)


def candidate(code: str, **params: object) -> RuleVersion:
    live = live_of(code)
    return RuleVersion.objects.create(
        rule=live.rule,
        number=live.number + 1,
        kind=live.kind,
        params={**live.params, **params},
        score=live.score,
        case_type=live.case_type,
        priority=live.priority,
    )


def run(job):
    for _ in range(100):
        job = job_run_slice(job.pk)
        if job.status != JobStatus.RUNNING:
            return job
    raise AssertionError("the backtest did not finish")


def today():
    return timezone.now().date()


def test_a_lower_threshold_would_raise_more_and_the_live_replay_matches_the_real_alerts(analyst):
    small, big = PlayerFactory(), PlayerFactory()
    for _ in range(3):
        posting.wallet_deposit(player=small, amount=D("300.00"), currency="GBP")
    for _ in range(3):
        posting.wallet_deposit(player=big, amount=D("900.00"), currency="GBP")
    events.drain("compliance.rules")
    real = set(Alert.objects.filter(rule__code="amount-24h").values_list("player_id", "window_key"))
    assert {p for p, _ in real} == {big.pk}
    version = candidate("amount-24h", amount={"amount": "500.00", "currency": "EUR"})
    job = run(backtest.backtest_start(actor=analyst, version=version, start=today(), end=today() + timedelta(days=1)))
    assert job.status == JobStatus.DONE, job.error
    summary = job.result["summary"]
    assert summary["candidate"]["players"] == 2 and summary["live"]["players"] == 1
    assert summary["overlap"] == {"both": 1, "only_candidate": 1, "only_live": 0}
    live_keys = {tuple(k.split("|", 1)) for k in job.result["live"]["keys"]}
    assert live_keys == {(str(p), w) for p, w in real}  # same code, same answer
    assert summary["history"]["alerts"] == 1 and summary["history"]["by_outcome"]["open"] == 1
    assert backtest.progress(job)["percent"] == 100.0


def test_the_history_gives_the_live_versions_precision(analyst):
    mlro = StaffUserFactory(roles=[roles.MLRO])
    players = [PlayerFactory() for _ in range(3)]
    for player in players:
        for _ in range(3):
            posting.wallet_deposit(player=player, amount=D("900.00"), currency="GBP")
    events.drain("compliance.rules")
    alerts = list(Alert.objects.filter(rule__code="amount-24h").select_related("case"))
    assert len(alerts) == 3
    for alert, outcome in zip(alerts, (Outcome.REFUTED, Outcome.REFUTED, Outcome.INCONCLUSIVE), strict=True):
        cases.case_close(actor=mlro, case=alert.case, outcome=outcome, reason="Reviewed")
    version = candidate("amount-24h", amount={"amount": "5000.00", "currency": "EUR"})
    job = run(backtest.backtest_start(actor=analyst, version=version, start=today(), end=today() + timedelta(days=1)))
    summary = job.result["summary"]
    assert summary["candidate"]["alerts"] == 0 and summary["overlap"]["only_live"] == 3
    assert summary["history"]["by_outcome"] == {"confirmed": 0, "refuted": 2, "inconclusive": 1, "open": 0}
    assert summary["history"]["precision"] == 0.0


def test_a_backtest_resumes_from_its_cursor_after_each_slice(analyst, monkeypatch):
    player = PlayerFactory()
    for _ in range(5):
        posting.wallet_deposit(player=player, amount=D("100.00"), currency="GBP")
    monkeypatch.setattr(backtest, "BATCH", 2)
    version = candidate("amount-24h", amount={"amount": "200.00", "currency": "EUR"})
    job = backtest.backtest_start(actor=analyst, version=version, start=today(), end=today() + timedelta(days=1))
    from apps.core import jobs

    monkeypatch.setattr(jobs.JobSlice, "out_of_time", lambda self: True)  # every batch ends its slice
    job = job_run_slice(job.pk)
    assert job.status == JobStatus.RUNNING and job.result["progress"] < 100 and job.cursor["after"] > 0
    job = run(job)
    assert job.status == JobStatus.DONE and job.slices >= 3
    # EUR 200 is GBP 170 at the test rate: the 2nd to the 5th deposit hit, one alert (one 24 h slice)
    assert job.result["summary"]["candidate"] == {"alerts": 1, "players": 1, "hits": 4}


def test_refusals(analyst):
    support = StaffUserFactory(roles=[roles.SUPPORT_AGENT])
    version = candidate("amount-24h")
    with pytest.raises(ApplicationError) as excinfo:
        backtest.backtest_start(actor=support, version=version, start=today(), end=today() + timedelta(days=1))
    assert excinfo.value.code == "case_not_permitted"
    with pytest.raises(ApplicationError) as excinfo:
        backtest.backtest_start(actor=analyst, version=version, start=today(), end=today())
    assert excinfo.value.code == "backtest_invalid"
    with pytest.raises(ApplicationError) as excinfo:
        backtest.backtest_start(actor=analyst, version=version, start=today(), end=today() + timedelta(days=400))
    assert excinfo.value.code == "backtest_invalid"
    sweep_rule = live_of("ip-country-mismatch")
    with pytest.raises(ApplicationError) as excinfo:
        backtest.backtest_start(actor=analyst, version=sweep_rule, start=today(), end=today() + timedelta(days=1))
    assert excinfo.value.code == "backtest_invalid"
    other = live_of("amount-30d")
    with pytest.raises(ApplicationError) as excinfo:
        backtest.backtest_start(
            actor=analyst, version=version, start=today(), end=today() + timedelta(days=1), baseline=other
        )
    assert excinfo.value.code == "backtest_invalid"
    backtest.backtest_start(actor=analyst, version=version, start=today(), end=today() + timedelta(days=1))
    with pytest.raises(ApplicationError) as excinfo:
        backtest.backtest_start(actor=analyst, version=version, start=today(), end=today() + timedelta(days=1))
    assert excinfo.value.code == "backtest_running"
    assert Rule.objects.filter(code="amount-24h").exists()


def _keys_and_hits(job):
    return {side: (sorted(job.result[side]["keys"]), job.result[side]["hits"]) for side in ("candidate", "live")}


def test_the_prefetch_gives_what_the_kinds_read_themselves_and_a_disagreement_turns_it_off(analyst, monkeypatch):
    players = [PlayerFactory() for _ in range(4)]
    for n, player in enumerate(players):
        for _ in range(n + 1):
            posting.wallet_deposit(player=player, amount=D("700.00"), currency="GBP")
    version = candidate("amount-24h", amount={"amount": "1000.00", "currency": "EUR"})
    period = {"start": today(), "end": today() + timedelta(days=1)}
    with_prefetch = run(backtest.backtest_start(actor=analyst, version=version, **period))
    monkeypatch.setattr(backtest, "PREFETCH", False)
    without = run(backtest.backtest_start(actor=analyst, version=version, **period))
    assert _keys_and_hits(with_prefetch) == _keys_and_hits(without)
    assert with_prefetch.result["summary"]["candidate"]["players"] == 3  # 1,400 GBP and more
    monkeypatch.setattr(backtest, "PREFETCH", True)
    monkeypatch.setattr(backtest, "_prefetch_agrees", lambda subject, reach: False)
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger(backtest.__name__).addHandler(handler)
    try:
        disagreeing = run(backtest.backtest_start(actor=analyst, version=version, **period))
    finally:
        logging.getLogger(backtest.__name__).removeHandler(handler)
    assert any(r.getMessage() == "backtest_prefetch_disagrees" for r in records)
    assert _keys_and_hits(disagreeing) == _keys_and_hits(without)
