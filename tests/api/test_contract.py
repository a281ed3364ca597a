"""The platform API against its own OpenAPI schema, with schemathesis, through the WSGI app.

Real fixtures: a real API client key with every scope, a funded player, a pending withdrawal and a pending limit
change; their ids are the path parameters, so generated requests reach the views rather than a 404. Every
operation gets a bounded number of positive (schema-valid) and negative (schema-invalid) examples. The checks:
no 5xx, every status is one the schema documents, and every response's content type, required headers and body
match what the schema documents.
The share of operations that reached a 2xx is printed (and must stay high: an operation that never succeeds
tests nothing).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.audit.services import SystemActor
from apps.kyc import documents as kyc_documents
from apps.kyc import vendors as kyc_vendors
from apps.responsible import services as rg
from apps.wallet import posting
from apps.wallet import services as wallet
from tests.factories import PlayerFactory
from tests.kyc import documents as kyc_files

pytestmark = pytest.mark.django_db

EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 20}
TIME_BUDGET_SECONDS = 60  # past it, one case per strategy (the test takes ~15 s here alone, ~25 s in the suite)
MIN_SHARE_2XX = 0.9
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app():
    """The real WSGI app, minus the per-request connection closing (as Django's test client does), so the
    requests run inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def contract_fixtures(platform_client, player):
    """The main player (funded, a pending withdrawal, a limit raise past its cooling-off), and one player per
    protection write, so that one operation's success does not refuse the next (a self-excluded player cannot
    deposit)."""
    actor = SystemActor("contract test")
    posting.wallet_deposit(player=player, amount=Decimal("500.00"), currency="GBP")
    withdrawal = wallet.withdrawal_request(
        player=player, amount=Decimal("10.00"), currency="GBP", api_client=platform_client.model.prefix
    )
    with time_machine.travel(timezone.now() - timedelta(hours=25)):
        rg.limit_set(actor=actor, player=player, kind="deposit", period="month", value="1000.00")
        change = rg.limit_set(actor=actor, player=player, kind="deposit", period="month", value="2000.00").change
    returning = PlayerFactory()
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        rg.self_exclude(actor=actor, player=returning, term="1y")
    # the KYC vendor webhook: a vendor to sign with and a document to decide (a decided one still answers 200)
    vendor = kyc_vendors.vendor_save(actor=actor, slug="contract-vendor", name="Contract", secret=VENDOR_SECRET)
    document = kyc_documents.document_upload(
        actor=actor, player=player, document_type="utility_bill", data=kyc_files.png(), source="api"
    )
    main = {
        "external_id": player.external_id,
        "withdrawal_id": withdrawal.pk,
        "change_id": change.pk,
        "slug": vendor.slug,
    }
    return {
        "kyc_document": document.pk,
        "key": platform_client.key,
        "player": player.external_id,
        "path": main,
        # operation path suffix -> its own player
        "players": {
            "/self-exclusion/": PlayerFactory().external_id,
            "/self-exclusion/return-request/": returning.external_id,
            "/time-out/": PlayerFactory().external_id,
        },
    }


def _path_parameters(operation: Any, fixtures: dict[str, Any]) -> dict[str, Any]:
    names = {p.name for p in operation.path_parameters}
    known = dict(fixtures["path"])
    for suffix, external_id in fixtures["players"].items():
        if operation.path.endswith(suffix):
            known["external_id"] = external_id
    return {name: value for name, value in known.items() if name in names}


VENDOR_SECRET = "contract-" + "s" * 32


def _kyc_positive(operation: Any, case: Any, fixtures: dict[str, Any]) -> None:
    """Positive KYC cases that can succeed: a real image as the upload's file (random bytes are never a document;
    the details stay as generated but for an expiry and number the type may not have), and a vendor event with a
    fresh id about a real document, signed over the bytes sent."""
    if operation.path.endswith("/kyc/documents/") and isinstance(case.body, dict):
        case.body["file"] = kyc_files.jpeg()
        case.body.pop("expires_on", None)
        case.body.pop("number", None)
        case.body["issuing_country"] = "GB"
    elif operation.path.endswith("/events/") and isinstance(case.body, dict):
        event = {**case.body, "event_id": uuid.uuid4().hex, "document": fixtures["kyc_document"]}
        case.body = json.dumps(event).encode()
        case.headers = {
            **(case.headers or {}),
            "X-Pitboss-Signature": kyc_vendors.signature_header(VENDOR_SECRET, case.body),
        }


def _exercise(
    app: Any,
    operation: Any,
    mode: GenerationMode,
    examples: int,
    codes: list[int],
    failures: list[str],
    strategy: Any,
    player: str,
    fixtures: dict[str, Any],
) -> None:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if case.headers and "Idempotency-Key" in case.headers and mode == GenerationMode.POSITIVE:
            case.headers["Idempotency-Key"] = uuid.uuid4().hex  # one operation per key, or every replay is a 409
        if isinstance(case.body, dict) and "player" in case.body and mode == GenerationMode.POSITIVE:
            case.body["player"] = player  # wallet postings name the player in the body
        if mode == GenerationMode.POSITIVE:
            _kyc_positive(operation, case, fixtures)
        response = case.call(app=app)
        codes.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as exc:  # collect them all, report at the end
            failures.append(f"{operation.label} [{response.status_code}]: {exc}"[:2000])

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters, no body)
        run()


def test_the_api_keeps_its_openapi_contract(wsgi_app, contract_fixtures, record_property):
    app = wsgi_app
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    headers = {"Authorization": f"Api-Key {contract_fixtures['key']}"}
    statuses: dict[str, list[int]] = defaultdict(list)
    failures: list[str] = []
    started = time.monotonic()

    # The operations that consume a fixture first (a later limit change of the same kind cancels the pending
    # one; nothing else touches the pending withdrawal), then the schema's order.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: not op.path.endswith(("/confirm/", "/cancel/")),
    )
    print(f"\nschema loaded in {time.monotonic() - started:.1f} s")
    assert len(operations) >= 18
    for operation in operations:
        path_parameters = _path_parameters(operation, contract_fixtures)
        strategies = [
            (GenerationMode.POSITIVE, 1, example)
            for example in operation.get_strategies_from_examples(path_parameters=path_parameters, headers=headers)
        ]
        strategies += [
            (
                mode,
                examples,
                operation.as_strategy(generation_mode=mode, path_parameters=path_parameters, headers=headers),
            )
            for mode, examples in EXAMPLES.items()
        ]
        for mode, examples, strategy in strategies:
            if time.monotonic() - started > TIME_BUDGET_SECONDS:
                examples = 1  # a slow machine: every operation still gets one case of each kind
            codes = statuses[operation.label]
            _exercise(
                app,
                operation,
                mode,
                examples,
                codes,
                failures,
                strategy,
                contract_fixtures["player"],
                contract_fixtures,
            )

    elapsed = time.monotonic() - started
    reached = sorted(label for label, codes in statuses.items() if any(200 <= c < 300 for c in codes))
    missing = sorted(set(statuses) - set(reached))
    share = len(reached) / len(operations)
    summary = (
        f"schemathesis: {sum(map(len, statuses.values()))} requests over {len(operations)} operations in "
        f"{elapsed:.1f} s, {len(failures)} failures; {len(reached)}/{len(operations)} operations ({share:.0%}) "
        "reached a 2xx" + (f"; never: {', '.join(missing)}" if missing else "")
    )
    print(f"\n{summary}")
    record_property("contract_summary", summary)  # tests/conftest.py prints it in the run's summary
    assert not failures, "\n\n".join(failures[:20])
    assert share >= MIN_SHARE_2XX
