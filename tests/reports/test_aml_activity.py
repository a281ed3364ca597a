"""AML activity: alerts by rule and outcome, cases by type, outcome and SLA state, on alerts raised and cases worked
through the compliance services; SAR counts only for the MLRO (or a schedule), and a file made without them that
says nothing of reports to the FIU."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from apps.approvals.selectors import pending_for
from apps.approvals.services import approval_decide
from apps.compliance import cases
from apps.compliance.alerts import alert_raise
from apps.compliance.kinds.base import Hit
from apps.compliance.sla import sla_sweep
from apps.reports import runs
from apps.reports.context import RunContext
from apps.reports.definitions.aml_activity import AmlActivity
from apps.reports.errors import ReportNotPermitted, ReportParamsInvalid
from apps.reports.models import ReportRun, RunState
from apps.sars import services as sars
from apps.staff import roles
from tests.compliance.conftest import publish
from tests.factories import PlayerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
TODAY = date(2026, 12, 7)
# Words a file without SAR counts must not hold (the tipping-off wall)
TELLING = ("sar", "str", "fiu", "suspicious", "report to")
AMOUNT = {"amount": {"amount": "2000.00", "currency": "EUR"}, "window": "24h"}
COUNT = {"count": 3, "window": "24h"}


def at(*args: int):
    return time_machine.travel(datetime(*args, tzinfo=UTC), tick=False)


def alert(version, player, window):
    return alert_raise(version=version, player=player, hit=Hit(window_key=window, evidence={"test": window}))


def build_march(mlro):
    checker = StaffUserFactory(roles=[roles.MLRO])
    one = publish("amount_window", AMOUNT, code="r-one")
    two = publish("count_window", COUNT, code="r-two")
    ann, cal = PlayerFactory(), PlayerFactory()
    dirk = PlayerFactory(country="DE", currency="EUR")
    with at(2026, 3, 5, 10):
        first = alert(one, ann, "w1")  # opens Ann's AML case
    with at(2026, 3, 6, 10):
        alert(two, ann, "w2")  # joins it
    with at(2026, 3, 7, 10):
        alert(one, ann, "w1")  # the same window again: one more hit, no new alert
    with at(2026, 3, 10, 10):
        refuted = alert(one, cal, "w3").case
    with at(2026, 3, 12, 10):
        cases.case_start(actor=mlro, case=refuted)
        cases.case_close(actor=mlro, case=refuted, outcome="refuted", reason="Salary paid in, documented")
    with at(2026, 3, 15, 10):
        cases.case_open(actor=mlro, player=None, case_type="fraud", title="Chargeback ring reported by the PSP")
    with at(2026, 3, 18, 10):
        sar = sars.sar_draft(
            actor=mlro, case=first.case, report_code="SAR", reason="Deposits beyond means", indicators=["-"]
        )
    with at(2026, 3, 19, 10):
        sars.sar_submit(actor=mlro, sar=sar)
        approval_decide(actor=checker, approval=pending_for(sar), approve=True)
    with at(2026, 3, 20, 10):
        cases.case_start(actor=mlro, case=first.case)
        cases.case_close(actor=mlro, case=first.case, outcome="inconclusive", reason="Nothing found either way")
    with at(2026, 3, 31, 22, 30):  # 00:30 on 1 April in Berlin: April's
        april = alert(one, dirk, "w4").case
    with at(2026, 4, 2, 10):
        sars.sar_draft(actor=mlro, case=april, report_code="SAR", reason="Structuring", indicators=["-"])
    sla_sweep(now=datetime(2026, 4, 30, 12, tzinfo=UTC))  # the open cases are past their due time by then
    return {"ann": ann, "cal": cal, "dirk": dirk}


@pytest.fixture
def march(mlro):
    return build_march(mlro=mlro)


def run(params=MARCH, user=None):
    report = AmlActivity()
    values, _, errors = report.clean(params, today=TODAY)
    assert errors == {} and report.check(values, user) == {}
    return {table.name: list(table.rows) for table in report.tables(RunContext(user=user), values)}


def test_alerts_by_rule_and_what_became_of_their_cases(march):
    assert run()["alerts"] == [
        ("r-one", "Test amount_window", "inconclusive", 1, 1, 2),  # Ann's, hit twice
        ("r-one", "Test amount_window", "refuted", 1, 1, 1),  # Cal's
        ("r-two", "Test count_window", "inconclusive", 1, 1, 1),
    ]
    assert run({"start": "2026-04-01", "end": "2026-04-30"})["alerts"] == [
        ("r-one", "Test amount_window", "case open", 1, 1, 1)  # Dirk's, raised after Berlin's midnight
    ]


def test_cases_opened_by_type_outcome_and_sla_state(march):
    assert run()["cases_opened"] == [
        ("aml", "medium", "inconclusive", "on_track", 1),
        ("aml", "medium", "refuted", "on_track", 1),
        ("fraud", "medium", "open", "breached", 1),  # no player: on UTC, under no jurisdiction
    ]


def test_cases_closed_by_type_and_outcome_and_whether_in_time(march):
    # Ann's case took 15 days (due after 72 working hours), Cal's two
    assert run()["cases_closed"] == [("aml", "inconclusive", 1, 0), ("aml", "refuted", 1, 1)]


def test_a_jurisdiction_leaves_out_the_cases_without_a_player(march):
    tables = run({**MARCH, "jurisdiction": "GB"})
    assert [row[2:4] for row in tables["cases_opened"]] == [("inconclusive", "on_track"), ("refuted", "on_track")]
    assert run({**MARCH, "jurisdiction": "DE"}) == {"alerts": [], "cases_opened": [], "cases_closed": []}


def test_the_mlro_gets_the_sar_counts_when_asking_for_them(march, mlro):
    tables = run({**MARCH, "include_sars": "yes"}, user=mlro)
    assert tables["sars"] == [("SAR", 1, 1, 1, 0), ("STR", 0, 0, 0, 0)]
    assert run({"start": "2026-04-01", "end": "2026-04-30", "include_sars": "yes"})["sars"] == [
        ("SAR", 1, 0, 0, 0),  # a schedule or the command line (no user) may ask too
        ("STR", 0, 0, 0, 0),
    ]


def test_without_sar_counts_the_file_says_nothing_of_reports_to_the_fiu(march, mlro):
    report = AmlActivity()
    for params in (MARCH, {**MARCH, "include_sars": "no"}):
        values, texts, _ = report.clean(params, today=TODAY)
        assert texts == {**MARCH}  # "no" is the same run as leaving it out: the word is not even in the header
        tables = list(report.tables(RunContext(user=mlro), values))
        assert [table.name for table in tables] == ["alerts", "cases_opened", "cases_closed"]
        output = runs.produce(report, values, texts, "csv", RunContext(user=mlro))
        with open(output.path, "rb") as handle:
            text = handle.read().decode().lower()
        assert "r-one" in text and "inconclusive" in text
        assert not [word for word in TELLING if word in text]
    assert report.download_permissions(values) == ("reports.run_aml",)
    values, _, _ = report.clean({**MARCH, "include_sars": "yes"}, today=TODAY)
    assert report.download_permissions(values) == ("reports.run_aml", "sars.view_sar")


def test_an_aml_analyst_is_refused_the_sar_counts_and_their_file(march, aml_analyst, mlro):
    report = AmlActivity()
    values, _, _ = report.clean({**MARCH, "include_sars": "yes"}, today=TODAY)
    assert report.check(values, aml_analyst) == {
        "include_sars": "Only those who may see reports to the FIU may ask for their counts."
    }
    with pytest.raises(ReportParamsInvalid) as refused:
        runs.run_request(actor=aml_analyst, report="aml_activity", params={**MARCH, "include_sars": "yes"})
    assert refused.value.code == "report_params_invalid" and set(refused.value.fields) == {"include_sars"}
    with pytest.raises(ReportNotPermitted):  # the backstop, for a caller that skipped check()
        list(report.tables(RunContext(user=aml_analyst), values))
    assert run(user=aml_analyst)["alerts"]  # without them the analyst runs it
    made = ReportRun.objects.create(
        report="aml_activity",
        params={**MARCH, "include_sars": "yes"},
        format="csv",
        requested_by=mlro,
        state=RunState.SUCCEEDED,
        file_name="never-read.csv",
    )
    with pytest.raises(ReportNotPermitted) as download:
        runs.run_download(actor=aml_analyst, run=made)
    assert download.value.code == "report_not_permitted"


def test_the_same_data_gives_the_same_rows_twice(march, mlro):
    params = {**MARCH, "include_sars": "yes"}
    assert run(params, user=mlro) == run(params, user=mlro)


def test_it_refuses_an_end_before_the_start_and_a_word_for_yes():
    report = AmlActivity()
    values, _, errors = report.clean({"start": "2026-03-31", "end": "2026-03-01"}, today=TODAY)
    assert errors == {} and report.check(values, None) == {"end": "The end is before the start."}
    _, _, errors = report.clean({**MARCH, "include_sars": "perhaps"}, today=TODAY)
    assert errors == {"include_sars": "Give yes or no."}


def test_aml_analysts_and_the_mlro_may_run_it_kyc_officers_may_not(aml_analyst, mlro, kyc_officer):
    assert aml_analyst.has_perm("reports.run_aml") and mlro.has_perm("reports.run_aml")
    assert not kyc_officer.has_perm("reports.run_aml")
    assert not aml_analyst.has_perm("sars.view_sar") and mlro.has_perm("sars.view_sar")
