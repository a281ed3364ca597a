"""The demo SAR: after the demo AML work, the demo MLRO has a draft STR from the structuring case with its linked
deposits; nobody else sees it; a second run adds nothing."""

from __future__ import annotations

import pytest

from apps.audit.services import SystemActor
from apps.compliance import demo as compliance_demo
from apps.kyc.demo import seed_levels
from apps.players.demo import seed_players
from apps.sars import demo
from apps.sars.choices import ReportCode, SarState
from apps.sars.models import Sar
from apps.staff import roles
from apps.staff.demo import seed_staff
from apps.wallet.models import LedgerTransaction
from tests.conftest import verified_client
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
PAGE = "/admin/sars/sar/{}/change/"


def test_the_demo_mlro_has_a_draft_str_from_the_structuring_case():
    actor = SystemActor("tests")
    assert demo.seed(actor=actor, count=None) == ["sars: no demo MLRO, no demo report"]
    seed_staff(actor=actor, count=None)
    assert demo.seed(actor=actor, count=None) == ["sars: no AML case with linked deposits, no demo report"]
    seed_players(600, actor=actor)
    seed_levels()
    compliance_demo.seed(actor=actor, count=None)
    (line,) = demo.seed(actor=actor, count=None)
    sar = Sar.objects.get()
    assert line.startswith(f"sars: demo-mlro drafted report #{sar.pk} (STR, ")
    assert sar.state == SarState.DRAFT and sar.report_code == ReportCode.STR
    assert sar.created_by.username == "demo-mlro" and sar.case.player_id == sar.player_id
    deposits = LedgerTransaction.objects.filter(pk__in=sar.transaction_ids)
    assert deposits.count() >= 3 and set(deposits.values_list("type", flat=True)) == {"deposit"}
    assert verified_client(StaffUserFactory(roles=[roles.MLRO])).get(PAGE.format(sar.pk)).status_code == 200
    assert verified_client(StaffUserFactory(roles=[roles.AML_ANALYST])).get(PAGE.format(sar.pk)).status_code == 404
    assert demo.seed(actor=actor, count=None) == ["sars: a demo report already there"]
