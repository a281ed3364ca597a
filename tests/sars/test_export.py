"""The goAML export against the real UNODC 5.0.1 schema: a SAR and an STR that validate (and are kept with their
SHA-256 and size), reports that fail with each error by path when KYC data the schema requires is missing, the
business rules the schema does not catch, and a schema that cannot be read."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from django.utils import timezone

from apps.players.models import Player
from apps.sars import goaml, services
from apps.sars.choices import SarState
from apps.sars.errors import GoamlSchemaUnavailable
from apps.sars.models import Sar, SarExport
from apps.sars.tasks import sar_export_task
from tests.factories import PlayerFactory
from tests.sars.conftest import SCHEMA, approved, deposit, draft, exported, open_case, passport

pytestmark = pytest.mark.django_db


def paths(export: SarExport) -> list[str]:
    return [e["path"] for e in export.errors]


def test_it_exports_an_str_that_validates_against_the_unodc_schema(mlro, second_mlro, case):
    sar = exported(mlro, second_mlro, draft(mlro, case))
    assert sar.state == SarState.READY
    export = sar.export
    assert export is not None and export.valid and export.errors == []
    body = export.xml.encode("utf-8")
    assert export.sha256 == hashlib.sha256(body).hexdigest() and export.size == len(body)
    assert export.schema_sha256 == hashlib.sha256(SCHEMA.read_bytes()).hexdigest()
    root = fromstring(body)
    assert root.findtext("report_code") == "STR" and root.findtext("rentity_id") == "4711"
    assert root.findtext("entity_reference") == f"PITBOSS-STR-{sar.pk}"
    assert [t.findtext("transactionnumber") for t in root.findall("transaction")] == [
        str(t) for t in sar.transaction_ids
    ]
    first, _, withdrawal = root.findall("transaction")
    # a deposit: from the player's card to their account at the operator; a withdrawal: back to the card
    assert first.find("t_from/from_account/account").text == "fp-card-0001"
    assert first.find("t_to_my_client/to_account/client_number").text == sar.player.external_id
    subject = first.find("t_to_my_client/to_account/signatory/t_person")
    assert subject.findtext("ssn") == "925076473" and subject.findtext("birthdate") == "1996-05-17T00:00:00"
    assert subject.findtext("occupation") == "Self-employed builder"
    assert withdrawal.find("t_from_my_client/from_account/client_number").text == sar.player.external_id
    assert withdrawal.find("t_to/to_account/account").text == "fp-card-0001"  # the closed loop
    assert first.findtext("amount_local") == "1900.00"
    # and the schema agrees, read again from the stored file
    assert goaml.validate(body, schema_path=str(SCHEMA)).valid


def test_it_exports_a_sar_with_the_player_as_the_activity_party(mlro, second_mlro, case):
    sar = exported(mlro, second_mlro, draft(mlro, case, report_code="SAR", occupation=""))
    assert sar.state == SarState.READY, sar.exports.first().errors
    root = fromstring(sar.export.xml.encode())
    assert root.find("transaction") is None
    party = root.find("activity/report_parties/report_party/person")
    assert party.findtext("first_name") == "Sam" and party.findtext("last_name") == "Suspect"
    assert party.findtext("passport_number") == "925076473"
    assert root.findtext("reason").startswith("Two deposits")
    assert root.findtext("reporting_person/last_name") == "Reed"


def test_the_export_task_calls_the_service_and_is_idempotent(mlro, second_mlro, case):
    sar = approved(mlro, second_mlro, draft(mlro, case))
    result = sar_export_task(sar.pk)
    assert result["valid"] is True and result["errors"] == 0
    again = sar_export_task(sar.pk)
    assert again["export"] == result["export"]
    assert SarExport.objects.filter(sar=sar).count() == 1


def test_approval_enqueues_the_export_after_commit(mlro, second_mlro, case, django_capture_on_commit_callbacks):
    sar = draft(mlro, case)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approved(mlro, second_mlro, sar)
    sent = [
        cell.cell_contents
        for cb in callbacks
        for cell in (getattr(cb, "__closure__", None) or ())
        if getattr(cell.cell_contents, "name", "") == "apps.sars.tasks.sar_export_task"
    ]
    assert sent, "approving a SAR sends the export task once the approval commits"


def _failed(mlro: Any, checker: Any, player: Player, *, then: Any = None, **kwargs: Any) -> SarExport:
    txn = deposit(player, "500.00")
    case = open_case(mlro, player, transactions=[txn])
    if then is not None:
        then()  # what the record says by the time of the export (the deposit was allowed before)
    sar = exported(mlro, checker, draft(mlro, case, **kwargs))
    assert sar.state == SarState.EXPORT_FAILED and sar.export is None
    export = SarExport.objects.get(sar=sar)
    assert not export.valid and export.sha256 == ""
    return export


def test_a_player_without_a_phone_fails_the_schema_with_the_path(mlro, second_mlro):
    player = PlayerFactory(first_name="Nora", last_name="Nophone", phone="", address_line="1 High St", city="Leeds")
    passport(player)
    export = _failed(mlro, second_mlro, player)
    assert paths(export) == ["/report/transaction/t_to_my_client/to_account/signatory/t_person/phones"]
    assert export.errors[0]["message"] == "The content of element 'phones' is not complete. Tag 'phone' expected."
    assert export.errors[0]["source"] == "schema"


def test_a_player_without_an_identity_document_has_no_ssn_and_fails(mlro, second_mlro):
    player = PlayerFactory(first_name="Ivo", last_name="Unverified", phone="+447911123457")  # no document
    export = _failed(mlro, second_mlro, player)
    assert paths(export) == ["/report/transaction/t_to_my_client/to_account/signatory/t_person"]
    assert export.errors[0]["message"] == "Unexpected child with tag 'nationality1' at position 4. Tag 'ssn' expected."


def test_an_address_without_a_city_fails_at_the_address(mlro, second_mlro):
    player = PlayerFactory(first_name="Cy", last_name="Nocity", phone="+447911123458", address_line="2 Low St")
    passport(player)
    export = _failed(mlro, second_mlro, player)
    assert paths(export) == ["/report/transaction/t_to_my_client/to_account/signatory/t_person/addresses/address/city"]
    assert export.errors[0]["message"] == "value length cannot be lesser than 1"


def test_an_str_without_the_subjects_occupation_fails(mlro, second_mlro, suspect):
    export = _failed(mlro, second_mlro, suspect, occupation="")
    assert paths(export) == ["/report/transaction/t_to_my_client/to_account/signatory/t_person"]
    assert "occupation" in export.errors[0]["message"]


def test_a_placeholder_birth_date_is_refused_by_the_business_rules(mlro, second_mlro, suspect):
    Player.objects.filter(pk=suspect.pk).update(date_of_birth=date(1900, 1, 1))
    suspect.refresh_from_db()
    export = _failed(mlro, second_mlro, suspect)
    assert export.errors == [
        {
            "path": "/report/transaction/t_to_my_client/to_account/signatory/t_person/birthdate",
            "message": "1900-01-01 is a placeholder, not a birth date.",
            "source": "rule",
        }
    ]


def test_a_birth_date_in_the_future_is_refused(mlro, second_mlro, suspect):
    def born_later() -> None:
        Player.objects.filter(pk=suspect.pk).update(date_of_birth=timezone.localdate() + timedelta(days=3))

    export = _failed(mlro, second_mlro, suspect, report_code="SAR", then=born_later)
    assert paths(export) == ["/report/activity/report_parties/report_party/person/birthdate"]
    assert "in the future" in export.errors[0]["message"]


def test_an_indicator_the_fius_schema_does_not_know_fails_at_the_indicator(mlro, second_mlro, suspect):
    export = _failed(mlro, second_mlro, suspect, indicators=["0001M"])
    assert paths(export) == ["/report/report_indicators/indicator"]


def test_transactions_in_another_currency_than_the_local_one_are_refused(mlro, second_mlro, suspect, settings):
    settings.GOAML_CURRENCY_LOCAL = "EUR"  # an operator reporting to an FIU of the euro area; the player plays in GBP
    export = _failed(mlro, second_mlro, suspect)
    assert paths(export) == ["/report/transaction/t_to_my_client/to_account/currency_code"]
    assert "in GBP, not the local currency EUR" in export.errors[0]["message"]


# --- the business rules on a crafted file: what the builder never writes, a hand-edited file may hold ----------


def _str_xml(mlro: Any, case: Any) -> ET.Element:
    return ET.fromstring(goaml.build(draft(mlro, case)))


def _check(root: ET.Element) -> list[goaml.Problem]:
    return goaml.validate(ET.tostring(root), schema_path=str(SCHEMA)).problems


def test_rules_amounts_must_be_positive(mlro, case):
    root = _str_xml(mlro, case)
    root.findall("transaction")[1].find("amount_local").text = "0"
    root.findall("transaction")[2].find("amount_local").text = "-5.00"
    problems = [p for p in _check(root) if p.source == "rule"]
    assert [p.path for p in problems] == ["/report/transaction[2]/amount_local", "/report/transaction[3]/amount_local"]
    assert problems[0].message == "The amount must be more than 0 (it is 0)."


def test_rules_transaction_numbers_are_unique(mlro, case):
    root = _str_xml(mlro, case)
    first = root.findall("transaction")[0].findtext("transactionnumber")
    root.findall("transaction")[2].find("transactionnumber").text = first
    problems = _check(root)
    assert [(p.path, p.source) for p in problems] == [("/report/transaction[3]/transactionnumber", "rule")]
    assert problems[0].message == f"Transaction number {first} is also /report/transaction[1]/transactionnumber."


def test_rules_a_transaction_has_exactly_one_from_and_one_to_side(mlro, case):
    root = _str_xml(mlro, case)
    transaction = root.findall("transaction")[0]
    transaction.remove(transaction.find("t_from"))
    problems = [p for p in _check(root) if p.source == "rule"]
    assert [(p.path, p.message) for p in problems] == [
        ("/report/transaction[1]", "A transaction needs exactly one from side (it has 0).")
    ]
    # and the schema says so too, in its words
    assert any(p.source == "schema" and p.path.startswith("/report/transaction[1]") for p in _check(root))


def test_rules_no_dates_in_the_future_but_an_expiry(mlro, case):
    root = _str_xml(mlro, case)
    ahead = (timezone.localdate() + timedelta(days=1)).isoformat() + "T00:00:00"
    root.findall("transaction")[0].find("date_transaction").text = ahead
    root.find("submission_date").text = ahead
    problems = _check(root)
    assert [p.path for p in problems] == ["/report/submission_date", "/report/transaction[1]/date_transaction"]
    assert all(p.source == "rule" and "in the future" in p.message for p in problems)  # the passport's expiry is fine


def test_rules_nobody_is_over_120(mlro, case):
    root = _str_xml(mlro, case)
    person = root.find("transaction/t_to_my_client/to_account/signatory/t_person")
    person.find("birthdate").text = "1850-03-02T00:00:00"
    assert [(p.path, p.message) for p in _check(root)] == [
        (
            "/report/transaction[1]/t_to_my_client/to_account/signatory/t_person/birthdate",
            "1850-03-02: nobody is over 120.",
        )
    ]


# --- the schema setting -------------------------------------------------------------------------------------------


def test_without_a_schema_nothing_is_ready_and_the_page_says_why(mlro, second_mlro, case, settings):
    settings.GOAML_SCHEMA_PATH = ""
    sar = exported(mlro, second_mlro, draft(mlro, case))
    assert sar.state == SarState.EXPORT_FAILED
    assert SarExport.objects.get(sar=sar).errors == [
        {
            "path": "GOAML_SCHEMA_PATH",
            "message": "GOAML_SCHEMA_PATH is not set: no goAML export can be validated.",
            "source": "schema",
        }
    ]


def test_an_unreadable_or_broken_schema_raises_goaml_schema_unavailable(tmp_path):
    with pytest.raises(GoamlSchemaUnavailable) as missing:
        goaml.load_schema(str(tmp_path / "nope.xsd"))
    assert missing.value.code == "goaml_schema_unavailable" and "cannot read" in missing.value.message
    broken = tmp_path / "broken.xsd"
    broken.write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element")
    with pytest.raises(GoamlSchemaUnavailable) as bad:
        goaml.load_schema(str(broken))
    assert "not a usable XML schema" in bad.value.message


def test_a_retry_after_the_record_was_fixed_makes_the_file_ready(mlro, second_mlro):
    player = PlayerFactory(first_name="Nora", last_name="Nophone", phone="", address_line="1 High St", city="Leeds")
    passport(player)
    export = _failed(mlro, second_mlro, player)
    Player.objects.filter(pk=player.pk).update(phone="+447911123459")
    sar = services.sar_export_retry(actor=mlro, sar=export.sar)
    assert sar.state == SarState.READY and sar.export is not None and sar.export.pk != export.pk
    assert Sar.objects.get(pk=sar.pk).exports.count() == 2  # the failed run stays, as it was


def test_a_control_character_in_a_record_is_an_error_not_a_crash(mlro, second_mlro, suspect):
    def tab_in_name() -> None:
        Player.objects.filter(pk=suspect.pk).update(last_name="Sus\x0bpect")

    export = _failed(mlro, second_mlro, suspect, then=tab_in_name)
    assert paths(export) == ["/report"]
    assert export.errors[0]["message"].startswith("The file is not well-formed XML: not well-formed (invalid token)")


def test_the_sweep_exports_an_approved_sar_whose_export_was_lost(
    mlro, second_mlro, case, django_capture_on_commit_callbacks
):
    from apps.sars.tasks import sars_export_sweep

    sar = draft(mlro, case)
    with django_capture_on_commit_callbacks(execute=False):  # the export task is lost (the broker was down)
        approved(mlro, second_mlro, sar)
    assert sars_export_sweep.run() == 0  # not yet: its export task may still be on its way
    Sar.objects.filter(pk=sar.pk).update(approved_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=False):
        assert sars_export_sweep.run() == 1
    sar_export_task(sar.pk)  # what the queued task does
    sar.refresh_from_db()
    assert sar.state == SarState.READY and sar.export is not None
    assert sars_export_sweep.run() == 0  # exported: nothing left to sweep
