"""goAML XML: build a report from a SAR, validate it against the FIU's schema and against the rules no schema says.

Why two checks. The UNODC schema says what a report may look like; it does not know that 1900-01-01 is the
placeholder a migration left for "unknown", that a transaction number appearing twice makes the FIU drop one
of them, or that a transaction has exactly one source and one destination (the schema's choice allows other
shapes, ``involved_parties`` among them, that Pitboss never means). An export is ready only when both agree.

How the report says the operator's data (docs/SARS.md, "What is exported"):

* the subject is the case's player, identified from KYC: the best approved identity document's number is the
  ``ssn`` (goAML requires one for the reporting entity's own client; a national identity card first, then a
  residence permit, a passport, a driving licence), a passport is also ``passport_number``/``passport_country``,
  the document's issuing country is the nationality (else the country of residence) and the document is the
  ``identification``; the occupation is the MLRO's, from the source-of-funds review (the platform has none);
* an STR's transactions are the ledger's deposits and withdrawals linked to the case: a deposit goes from the
  player's payment instrument (``t_from``/``from_account``: the payment method and the instrument's fingerprint,
  which is all the operator holds) to the player's account at the operator (``t_to_my_client``/``to_account``,
  the player as its signatory); a withdrawal the other way;
* a SAR's activity names the player as the one report party;
* lookup codes (funds, transmission mode, account type...) are the FIU's, mapped in ``GOAML_LOOKUPS``; goAML's
  ``-`` (unknown) otherwise.

Nothing here writes: :func:`build` reads the SAR, its player and the ledger; :func:`validate` reads the schema.
"""

from __future__ import annotations

import hashlib
import os
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import phonenumbers
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils import timezone

from apps.sars import conf
from apps.sars.choices import ReportCode
from apps.sars.errors import GoamlSchemaUnavailable

# ledger types an STR reports: money in from the player's instrument, money out to it
DEPOSIT_TYPES = ("deposit",)
WITHDRAWAL_TYPES = ("withdrawal", "withdrawal_paid")
REPORTABLE_TYPES = (*DEPOSIT_TYPES, *WITHDRAWAL_TYPES)
# the identity documents whose number stands as the subject's ``ssn``, best first
SSN_ORDER = ("national_id", "residence_permit", "passport", "driving_licence")
# dates that mean "unknown" in the systems birth dates come from (SQL Server's minimum, Excel's zero, 1900-01-01)
PLACEHOLDER_BIRTH_DATES = frozenset(
    {
        date(1, 1, 1),
        date(1111, 11, 11),
        date(1753, 1, 1),
        date(1800, 1, 1),
        date(1899, 12, 30),
        date(1899, 12, 31),
        date(1900, 1, 1),
        date(1901, 1, 1),
        date(9999, 12, 31),
    }
)
OLDEST_AGE = 120  # a birth date further back is a placeholder, not a person
# dates that may lie ahead (an identity document expires in the future); every other date may not
FUTURE_ALLOWED = frozenset({"expiry_date"})
DATE_TAGS = frozenset(
    {
        "submission_date",
        "report_date",
        "date_transaction",
        "value_date",
        "date_posting",
        "birthdate",
        "opened",
        "closed",
        "date_balance",
        "status_date",
        "issue_date",
        "expiry_date",
        "date_deceased",
    }
)


@dataclass(frozen=True)
class Problem:
    """One reason a file is not ready: where (an XPath-like path into the report) and why, in words."""

    path: str
    message: str
    source: str  # "schema" or "rule"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "source": self.source}


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


# --- validating -------------------------------------------------------------------------------------------------

_schemas: dict[tuple[str, float, int], tuple[Any, str]] = {}
_lock = threading.Lock()


def load_schema(path: str) -> tuple[Any, str]:
    """The schema at ``path`` (an XSD 1.1, as goAML's is) and its SHA-256, loaded once per file version: a worker
    keeps it in memory (loading the 190 KB UNODC schema takes about a second) until the file changes."""
    import xmlschema

    if not path:
        raise GoamlSchemaUnavailable("GOAML_SCHEMA_PATH is not set: no goAML export can be validated.")
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise GoamlSchemaUnavailable(f"GOAML_SCHEMA_PATH: cannot read {path} ({exc.strerror}).") from exc
    key = (path, stat.st_mtime, stat.st_size)
    with _lock:
        if key not in _schemas:
            try:
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
                schema = xmlschema.XMLSchema11(path)
            except (OSError, xmlschema.XMLSchemaException, ET.ParseError) as exc:
                raise GoamlSchemaUnavailable(f"GOAML_SCHEMA_PATH: {path} is not a usable XML schema ({exc}).") from exc
            _schemas.clear()
            _schemas[key] = (schema, digest)
        return _schemas[key]


def schema_problems(root: ET.Element, schema: Any) -> list[Problem]:
    problems = []
    for error in schema.iter_errors(root):
        reason = getattr(error, "reason", None) or str(error.message).split("\n")[0]
        path = getattr(error, "path", None) or "/report"
        problems.append(Problem(path=str(path), message=str(reason), source="schema"))
    return problems


def _walk(element: ET.Element, path: str) -> Any:
    """Every element with its path, as the schema's errors name them: siblings of the same tag numbered
    (``transaction[2]``), a single one not."""
    yield element, path
    seen: dict[str, int] = {}
    for child in element:
        seen[child.tag] = seen.get(child.tag, 0) + 1
        count = sum(1 for c in element if c.tag == child.tag)
        step = f"{child.tag}[{seen[child.tag]}]" if count > 1 else child.tag
        yield from _walk(child, f"{path}/{step}")


def _parse_date(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.strip()).date()
    except (ValueError, AttributeError):
        return None


def rule_problems(root: ET.Element, *, today: date | None = None) -> list[Problem]:
    """What the schema does not catch: placeholder birth dates, dates in the future, amounts that are not
    positive, a transaction number used twice, a transaction without exactly one source and one destination,
    amounts in a currency other than the local one."""
    today = today or timezone.localdate()
    problems: list[Problem] = []
    numbers: dict[str, str] = {}
    local = (root.findtext("currency_code_local") or "").strip()
    for element, path in _walk(root, f"/{root.tag}"):
        tag, text = element.tag, (element.text or "").strip()
        if tag in DATE_TAGS and text:
            day = _parse_date(text)
            if day is None:
                continue  # not a date: the schema says so
            if tag == "birthdate" and day in PLACEHOLDER_BIRTH_DATES:
                problems.append(Problem(path, f"{day.isoformat()} is a placeholder, not a birth date.", "rule"))
            elif tag == "birthdate" and day.year < today.year - OLDEST_AGE:
                problems.append(Problem(path, f"{day.isoformat()}: nobody is over {OLDEST_AGE}.", "rule"))
            if tag not in FUTURE_ALLOWED and day > today:
                problems.append(Problem(path, f"{day.isoformat()} is in the future.", "rule"))
        elif tag == "amount_local":
            try:
                value = Decimal(text)
            except ArithmeticError:
                continue  # not a number: the schema says so
            if not value > 0:
                problems.append(Problem(path, f"The amount must be more than 0 (it is {text}).", "rule"))
        elif tag == "transactionnumber":
            if text in numbers:
                problems.append(Problem(path, f"Transaction number {text} is also {numbers[text]}.", "rule"))
            else:
                numbers[text] = path
        elif tag == "transaction":
            problems.extend(_sides(element, path, local))
    return problems


def _sides(element: ET.Element, path: str, local: str) -> list[Problem]:
    problems = []
    sources = [c for c in element if c.tag in ("t_from", "t_from_my_client")]
    targets = [c for c in element if c.tag in ("t_to", "t_to_my_client")]
    if len(sources) != 1 or element.find("involved_parties") is not None:
        problems.append(Problem(path, f"A transaction needs exactly one from side (it has {len(sources)}).", "rule"))
    if len(targets) != 1 or element.find("involved_parties") is not None:
        problems.append(Problem(path, f"A transaction needs exactly one to side (it has {len(targets)}).", "rule"))
    for side in (*sources, *targets):
        for account in side:
            code = (account.findtext("currency_code") or "").strip()
            if side.tag.endswith("_my_client") and code and local and code != local:
                problems.append(
                    Problem(
                        f"{path}/{side.tag}/{account.tag}/currency_code",
                        f"The account is in {code}, not the local currency {local}: goAML's amount_local would need "
                        "a conversion Pitboss does not guess.",
                        "rule",
                    )
                )
    return problems


@dataclass(frozen=True)
class Checked:
    problems: list[Problem]
    schema_sha256: str

    @property
    def valid(self) -> bool:
        return not self.problems


def validate(xml: bytes, *, schema_path: str, today: date | None = None) -> Checked:
    """The schema's verdict and the business rules', together (an unreadable schema raises
    ``GoamlSchemaUnavailable``: no verdict is not a pass)."""
    schema, digest = load_schema(schema_path)
    root = safe_fromstring(xml)
    return Checked(problems=schema_problems(root, schema) + rule_problems(root, today=today), schema_sha256=digest)
