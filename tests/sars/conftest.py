"""The SAR tests' world: the operator's goAML identity pointed at the real UNODC 5.0.1 schema, a player verified
by a passport, a case the MLRO opened on them with deposits and a withdrawal linked from the real ledger."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps.compliance import cases
from apps.compliance.models import Case
from apps.kyc.models import Document
from apps.players.models import Player
from apps.sars import services
from apps.sars.models import Sar
from apps.staff import roles
from apps.wallet import posting
from apps.wallet.services import withdrawal_request
from tests.factories import PlayerFactory, StaffUserFactory

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "data" / "goaml" / "goAMLSchema-5.0.1.xsd"
D = Decimal
_refs = itertools.count(1)


@pytest.fixture(autouse=True)
def goaml_settings(settings: Any) -> Any:
    assert SCHEMA.exists(), f"the UNODC schema is expected at {SCHEMA}"
    settings.GOAML_SCHEMA_PATH = str(SCHEMA)
    settings.GOAML_RENTITY_ID = 4711
    settings.GOAML_RENTITY_BRANCH = "Pitboss Gaming Ltd, London"
    settings.GOAML_CURRENCY_LOCAL = "GBP"
    settings.GOAML_REPORTING_PERSON = {
        "first_name": "Morgan",
        "last_name": "Reed",
        "email": "mlro@pitboss.example",
        "occupation": "Money Laundering Reporting Officer",
        "phone": {"prefix": "44", "number": "2079460000"},
    }
    settings.GOAML_LOCATION = {"address": "1 Casino Row", "city": "London", "zip": "EC1A 1AA", "country_code": "GB"}
    settings.GOAML_INSTITUTION_CODE = "PITBOSS"
    return settings


def deposit(player: Player, amount: str, *, instrument: str = "fp-card-0001", method: str = "card") -> int:
    posted = posting.deposit(
        player=player,
        amount=D(amount),
        currency=player.currency,
        payment_method=method,
        instrument_fingerprint=instrument,
        api_client="pfx",
        reference=f"sar-dep-{next(_refs)}",
    )
    return int(posted.transaction.pk)


def withdraw(player: Player, amount: str) -> int:
    from apps.wallet.models import LedgerTransaction

    withdrawal_request(player=player, amount=D(amount), currency=player.currency, payment_method="card")
    return int(
        LedgerTransaction.objects.filter(player=player, type="withdrawal")
        .order_by("-id")
        .values_list("id", flat=True)[0]
    )


def passport(player: Player, *, number: str = "925076473", country: str = "GB") -> Document:
    return Document.objects.create(
        player=player,
        type="passport",
        state="approved",
        file_name=f"kyc/{uuid.uuid4().hex}.jpg",
        file_kind="jpeg",
        content_type="image/jpeg",
        size=1000,
        sha256="0" * 64,
        issuing_country=country,
        expires_on=date(2031, 6, 30),
        number=number,
        number_hash=uuid.uuid4().hex,
        source="admin",
    )


@pytest.fixture
def mlro():
    return StaffUserFactory(roles=[roles.MLRO], first_name="Mel", last_name="Lead")


@pytest.fixture
def second_mlro():
    return StaffUserFactory(roles=[roles.MLRO], first_name="Dee", last_name="Puty")


@pytest.fixture
def suspect() -> Player:
    player = PlayerFactory(
        first_name="Sam",
        last_name="Suspect",
        currency="GBP",
        country="GB",
        phone="+447911123456",
        address_line="12 Baker Street",
        city="London",
        postal_code="NW1 6XE",
    )
    passport(player)
    return player


def open_case(mlro: Any, player: Player, *, transactions: list[int] = ()) -> Case:  # type: ignore[assignment]
    case = cases.case_open(actor=mlro, player=player, case_type="aml", title="Deposits just under the CDD threshold")
    for transaction_id in transactions:
        cases.case_link_transaction(actor=mlro, case=case, transaction_id=transaction_id)
    return case


@pytest.fixture
def case(mlro: Any, suspect: Player) -> Case:
    first = deposit(suspect, "1900.00")
    second = deposit(suspect, "1950.00")
    out = withdraw(suspect, "3500.00")
    return open_case(mlro, suspect, transactions=[first, second, out])


def draft(mlro: Any, case: Case, **kwargs: Any) -> Sar:
    values = {
        "report_code": "STR",
        "reason": "Two deposits just under the CDD threshold within a day, withdrawn with little play.",
        "action": "Withdrawals held; account restricted pending enhanced due diligence.",
        "indicators": ["-"],
        "occupation": "Self-employed builder",
        **kwargs,
    }
    return services.sar_draft(actor=mlro, case=case, **values)


def approved(mlro: Any, checker: Any, sar: Sar) -> Sar:
    from apps.approvals.selectors import pending_for
    from apps.approvals.services import approval_decide

    services.sar_submit(actor=mlro, sar=sar)
    approval = pending_for(sar)
    assert approval is not None
    approval_decide(actor=checker, approval=approval, approve=True)
    return Sar.objects.get(pk=sar.pk)


def exported(mlro: Any, checker: Any, sar: Sar) -> Sar:
    sar = approved(mlro, checker, sar)
    services.sar_export(actor=checker, sar_id=sar.pk)
    return Sar.objects.get(pk=sar.pk)
