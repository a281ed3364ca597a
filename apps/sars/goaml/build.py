"""Building the goAML report from a SAR (the mapping is described in apps/sars/goaml/__init__.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import phonenumbers
from django.utils import timezone

from apps.sars import conf
from apps.sars.choices import ReportCode

# ledger types an STR reports: money in from the player's instrument, money out to it
DEPOSIT_TYPES = ("deposit",)
WITHDRAWAL_TYPES = ("withdrawal", "withdrawal_paid")
REPORTABLE_TYPES = (*DEPOSIT_TYPES, *WITHDRAWAL_TYPES)
# the identity documents whose number stands as the subject's ``ssn``, best first
SSN_ORDER = ("national_id", "residence_permit", "passport", "driving_licence")


# --- building ---------------------------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _opt(parent: ET.Element, tag: str, text: Any) -> None:
    """An optional element: only when there is something to say (an empty one is not "unknown" to goAML)."""
    if text not in (None, ""):
        _sub(parent, tag, text)


def sql_date(value: date | datetime) -> str:
    """goAML's ``sql_date`` is an ``xs:dateTime`` without a zone: the operator's local time."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    return datetime(value.year, value.month, value.day).isoformat()


def amount(value: Decimal) -> str:
    quantized = value.quantize(Decimal("0.01"))
    return f"{quantized:f}" if quantized == value else f"{value.normalize():f}"


def identity_document(player: Any) -> Any:
    """The player's best approved identity document (``SSN_ORDER``), the most recently decided of its type."""
    from apps.kyc.models import Document

    approved = list(
        Document.objects.filter(player=player, state="approved", type__in=SSN_ORDER).order_by("-decided_at", "-id")
    )
    for kind in SSN_ORDER:
        for document in approved:
            if document.type == kind and document.number:
                return document
    return None


def _phone(parent: ET.Element, raw: str, country: str) -> None:
    phones = _sub(parent, "phones")
    if not raw:
        return  # ``phones`` needs a phone for the operator's client: the schema says so, by path
    try:
        parsed = phonenumbers.parse(raw, country or None)
        prefix, number = str(parsed.country_code), str(parsed.national_number)
    except phonenumbers.NumberParseException:
        prefix, number = "", raw
    phone = _sub(phones, "phone")
    _sub(phone, "tph_contact_type", conf.lookup("phone_contact_type"))
    _sub(phone, "tph_communication_type", conf.lookup("phone_communication_type"))
    _sub(phone, "tph_country_prefix", prefix)
    _sub(phone, "tph_number", number)


def _address(parent: ET.Element, player: Any) -> None:
    if not (player.address_line or player.city or player.postal_code):
        return
    addresses = _sub(parent, "addresses")
    address = _sub(addresses, "address")
    _sub(address, "address_type", conf.lookup("address_type"))
    _sub(address, "address", player.address_line)
    _sub(address, "city", player.city)
    _opt(address, "zip", player.postal_code)
    _sub(address, "country_code", player.country)
    _opt(address, "state", player.region)


def person(parent: ET.Element, tag: str, player: Any, *, occupation: str, my_client: bool) -> ET.Element:
    """The player as a goAML person: ``t_person_my_client`` (the operator's client, all of KYC required) or
    ``t_person`` (a SAR's report party, where goAML 5.0 has no client variant). Element order is the schema's."""
    element = _sub(parent, tag)
    document = identity_document(player)
    number = str(document.number) if document is not None else ""
    nationality = document.issuing_country if document is not None and document.type != "driving_licence" else ""
    _sub(element, "first_name", player.first_name)
    _sub(element, "last_name", player.last_name)
    if player.date_of_birth is not None:
        _sub(element, "birthdate", sql_date(player.date_of_birth))
    _opt(element, "ssn", number)
    if document is not None and document.type == "passport":
        _sub(element, "passport_number", number)
        _opt(element, "passport_country", document.issuing_country)
    _sub(element, "nationality1", nationality or player.country)
    _sub(element, "residence", player.country)
    if my_client or player.phone:
        _phone(element, player.phone, player.country)
    _address(element, player)
    _opt(element, "email", player.email)
    _opt(element, "occupation", occupation)
    if document is not None:
        identification = _sub(element, "identification")
        _sub(identification, "type", conf.lookup(f"identification_{document.type}"))
        _sub(identification, "number", number)
        if document.expires_on is not None:
            _sub(identification, "expiry_date", sql_date(document.expires_on))
        _sub(identification, "issue_country", document.issuing_country or player.country)
    return element


def _client_account(parent: ET.Element, tag: str, player: Any, currency: str, occupation: str) -> None:
    """The player's account at the operator (``t_account_my_client``), the player its primary signatory."""
    account = _sub(parent, tag)
    _sub(account, "institution_name", conf.institution_name())
    _sub(account, "institution_code", conf.institution_code())
    _sub(account, "non_bank_institution", "true")
    _sub(account, "branch", conf.rentity_branch())
    _sub(account, "account", f"{player.external_id}-{currency}")
    _sub(account, "currency_code", currency)
    _sub(account, "account_name", f"{player.first_name} {player.last_name}".strip())
    _sub(account, "client_number", player.external_id)
    _sub(account, "personal_account_type", conf.lookup("account_type"))
    signatory = _sub(account, "signatory")
    _sub(signatory, "is_primary", "true")
    person(signatory, "t_person", player, occupation=occupation, my_client=True)
    _sub(signatory, "role", conf.lookup("signatory_role"))
    _sub(account, "opened", sql_date(player.created_at))
    _sub(account, "status_code", conf.lookup("account_status"))


def payout_instrument(txn: Any) -> str:
    """A withdrawal's instrument: payouts go back to the instrument the player last deposited with (the closed
    loop every payment provider and regulator expects), of the same method when the withdrawal names one."""
    from apps.wallet.models import LedgerTransaction

    if txn.instrument_fingerprint:
        return str(txn.instrument_fingerprint)
    deposits = LedgerTransaction.objects.filter(
        player_id=txn.player_id, type__in=DEPOSIT_TYPES, created_at__lte=txn.created_at
    ).exclude(instrument_fingerprint="")
    if txn.payment_method:
        deposits = deposits.filter(payment_method=txn.payment_method)
    found = deposits.order_by("-created_at", "-id").values_list("instrument_fingerprint", flat=True).first()
    return str(found or "")


def _instrument_account(parent: ET.Element, tag: str, player: Any, txn: Any) -> None:
    """The player's payment instrument (``t_account``): the method and the fingerprint the payment provider gave;
    the card or account number stays with the provider. Unknown: empty, and the schema says where."""
    account = _sub(parent, tag)
    _sub(account, "institution_name", txn.payment_method or "")
    _sub(account, "institution_code", txn.payment_method or "")
    _sub(account, "non_bank_institution", "true")
    _sub(account, "account", payout_instrument(txn) if txn.type in WITHDRAWAL_TYPES else txn.instrument_fingerprint)
    _sub(account, "currency_code", txn.currency)
    _sub(account, "account_name", f"{player.first_name} {player.last_name}".strip())


def _transaction(report: ET.Element, sar: Any, player: Any, txn: Any) -> None:
    element = _sub(report, "transaction")
    _sub(element, "transactionnumber", txn.pk)
    _opt(element, "internal_ref_number", (txn.reference or "")[:100])
    _sub(element, "transaction_location", "Online (remote gambling account)")
    _sub(element, "transaction_description", f"{txn.get_type_display()} by {txn.payment_method or 'unknown method'}")
    _sub(element, "date_transaction", sql_date(txn.created_at))
    _sub(element, "transmode_code", conf.lookup(f"transmode_{txn.payment_method}") if txn.payment_method else "-")
    _sub(element, "amount_local", amount(txn.amount))
    incoming = txn.type in DEPOSIT_TYPES
    funds = conf.lookup("funds_deposit" if incoming else "funds_withdrawal")
    if incoming:
        side = _sub(element, "t_from")
        _sub(side, "from_funds_code", funds)
        _instrument_account(side, "from_account", player, txn)
        _sub(side, "from_country", player.country)
        side = _sub(element, "t_to_my_client")
        _sub(side, "to_funds_code", funds)
        _client_account(side, "to_account", player, txn.currency, sar.occupation)
        _sub(side, "to_country", player.country)
    else:
        side = _sub(element, "t_from_my_client")
        _sub(side, "from_funds_code", funds)
        _client_account(side, "from_account", player, txn.currency, sar.occupation)
        _sub(side, "from_country", player.country)
        side = _sub(element, "t_to")
        _sub(side, "to_funds_code", funds)
        _instrument_account(side, "to_account", player, txn)
        _sub(side, "to_country", player.country)


def _reporting_person(report: ET.Element) -> None:
    who = conf.reporting_person()
    element = _sub(report, "reporting_person")
    _opt(element, "title", who.get("title"))
    _sub(element, "first_name", who.get("first_name", ""))
    _sub(element, "last_name", who.get("last_name", ""))
    phone = who.get("phone") or {}
    if phone:
        phones = _sub(element, "phones")
        entry = _sub(phones, "phone")
        _sub(entry, "tph_contact_type", conf.lookup("phone_contact_type"))
        _sub(entry, "tph_communication_type", conf.lookup("phone_communication_type"))
        _sub(entry, "tph_country_prefix", phone.get("prefix", ""))
        _sub(entry, "tph_number", phone.get("number", ""))
    _opt(element, "email", who.get("email"))
    _opt(element, "occupation", who.get("occupation"))


def _location(report: ET.Element) -> None:
    where = conf.location()
    element = _sub(report, "location")
    _sub(element, "address_type", conf.lookup("address_type"))
    _sub(element, "address", where.get("address", ""))
    _opt(element, "town", where.get("town"))
    _sub(element, "city", where.get("city", ""))
    _opt(element, "zip", where.get("zip"))
    _sub(element, "country_code", where.get("country_code", ""))
    _opt(element, "state", where.get("state"))


def transactions_of(sar: Any) -> list[Any]:
    from apps.wallet.models import LedgerTransaction

    rows = LedgerTransaction.objects.in_bulk(list(sar.transaction_ids))
    return [rows[pk] for pk in sar.transaction_ids if pk in rows]


def build(sar: Any, *, now: datetime | None = None) -> bytes:
    """The report as UTF-8 XML with its declaration. Reads the SAR, its player, KYC and the ledger."""
    now = now or timezone.now()
    player = sar.player
    report = ET.Element("report")
    _sub(report, "rentity_id", conf.rentity_id() if conf.rentity_id() is not None else "")
    _sub(report, "rentity_branch", conf.rentity_branch())
    _sub(report, "submission_code", conf.submission_code())
    _sub(report, "report_code", sar.report_code)
    _sub(report, "entity_reference", sar.entity_reference)
    if sar.corrects_id is not None:
        # a correction names the filing it corrects by the FIU's reference (and says so in its reason)
        _opt(report, "fiu_ref_number", sar.corrects.fiu_reference)
    _sub(report, "submission_date", sql_date(now))
    _sub(report, "currency_code_local", conf.currency_local())
    _reporting_person(report)
    _location(report)
    reason = sar.reason
    if sar.corrects_id is not None:
        reason = f"Correction of report {sar.corrects.entity_reference} (FIU {sar.corrects.fiu_reference}). {reason}"
    _sub(report, "reason", reason)
    _opt(report, "action", sar.action)
    if sar.report_code == ReportCode.STR:
        for txn in transactions_of(sar):
            _transaction(report, sar, player, txn)
    else:
        activity = _sub(report, "activity")
        parties = _sub(activity, "report_parties")
        party = _sub(parties, "report_party")
        person(party, "person", player, occupation=sar.occupation, my_client=False)
        _sub(party, "reason", "The subject of the report")
    indicators = _sub(report, "report_indicators")
    for code in sar.indicators:
        _sub(indicators, "indicator", code)
    ET.indent(report)
    return ET.tostring(report, encoding="utf-8", xml_declaration=True)
