"""Validating a goAML report: the FIU's schema, then the business rules no schema says."""

from __future__ import annotations

import hashlib
import os
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils import timezone

from apps.sars.errors import GoamlSchemaUnavailable

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
    try:
        root = safe_fromstring(xml)
    except ET.ParseError as exc:  # a control character in a record: the FIU's parser would refuse the file too
        return Checked(
            problems=[Problem("/report", f"The file is not well-formed XML: {exc}.", "schema")], schema_sha256=digest
        )
    return Checked(problems=schema_problems(root, schema) + rule_problems(root, today=today), schema_sha256=digest)
