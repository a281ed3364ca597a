"""Reading watchlist files an operator provides: OFAC's ``sdn.csv`` (+ ``alt.csv``), the UN consolidated list XML,
and a simple CSV. Each reader validates the whole file and returns plain ``ParsedEntry`` values, or raises
``ListFileInvalid`` with the line and the reason: nothing is stored before a file has been read to its end.

OFAC's CSV has no header; ``-0-`` means empty; dates of birth, aliases, nationality and place of birth are hidden in
the free-text Remarks ("DOB 10 Oct 1960; POB Giza, Egypt; a.k.a. 'X'; nationality Egypt"); the file ends with a
DOS end-of-file byte (0x1A). The UN file is parsed with defusedxml's SAX reader (entity expansion and external
entities refused) so every record knows the line it starts on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

import pycountry
from defusedxml import sax as defused_sax
from defusedxml.common import DefusedXmlException
from django.utils.text import slugify

from apps.screening.errors import ListFileInvalid
from apps.screening.models import EntryType

OFAC_COLUMNS = 12
OFAC_ALT_COLUMNS = 5
EMPTY = "-0-"
MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
CSV_COLUMNS = ("name", "aliases", "date_of_birth", "country", "list", "type")


@dataclass
class ParsedEntry:
    entry_id: str
    entry_type: str
    name: str
    aliases: list[str] = field(default_factory=list)
    birth_dates: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)
    remarks: str = ""
    line: int = 0

    def content_hash(self) -> str:
        """The entry's content, so an import knows what changed (the line it was read from is not content)."""
        body = [self.entry_type, self.name, self.aliases, self.birth_dates, self.countries, self.programs, self.remarks]
        return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()


@dataclass
class ParsedList:
    code: str
    name: str
    source_format: str
    entries: list[ParsedEntry]


# --- shared helpers -------------------------------------------------------------------------------------------


def decode(data: bytes, file_name: str) -> str:
    """UTF-8 (a BOM is dropped); anything else is refused with the line of the first undecodable byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ListFileInvalid(f"not UTF-8 (byte 0x{data[exc.start]:02x})", line=line, file_name=file_name) from None


# How OFAC and the UN write countries pycountry does not know by that name (seen in the 2024 files).
COUNTRY_NAMES = {
    "russia": "RU",
    "burma": "MM",
    "turkey": "TR",
    "korea, north": "KP",
    "north korea": "KP",
    "korea, south": "KR",
    "bosnia-herzegovina": "BA",
    "palestinian": "PS",
    "palestine": "PS",
    "palestinian territories": "PS",
    "west bank": "PS",
    "gaza": "PS",
    "gaza strip": "PS",
    "kosovo": "XK",
    "congo, democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "drc": "CD",
    "macedonia": "MK",
    "north macedonia, the republic of": "MK",
    "the gambia": "GM",
    "england": "GB",
    "uk": "GB",
    "the philippines": "PH",
    "iran": "IR",
    "syria": "SY",
    "venezuela": "VE",
    "united states": "US",
    "usa": "US",
    "democratic people's republic of korea": "KP",
}


@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """ISO alpha-2 for a country as lists write it ("Egypt", "Iran", "Russia", "EG"); None when unknown (a
    province, a city: OFAC's "POB" often ends with one)."""
    text = text.strip().strip(".").strip()
    if not text:
        return None
    if len(text) == 2 and text.isalpha():
        return text.upper() if pycountry.countries.get(alpha_2=text.upper()) else None
    if text.lower() in COUNTRY_NAMES:
        return COUNTRY_NAMES[text.lower()]
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def _dedupe(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v not in seen:
            seen[v] = None
    return list(seen)


def parse_date_text(text: str) -> str | None:
    """One date as lists write it -> YYYY-MM-DD, YYYY-MM, YYYY or a year range YYYY..YYYY; None if unreadable.

    "10 Oct 1960", "Oct 1960", "1960", "circa 1960" (a year either side), "1960 to 1962",
    "01 Jan 1960 to 31 Dec 1962", and ISO "1960-10-10" / "1960-10"."""
    t = text.strip().rstrip(".").strip().lower()
    if not t:
        return None
    if m := re.fullmatch(r"(?:circa|approximately|about|approx\.?)\s+(\d{4})", t):
        y = int(m.group(1))
        return f"{y - 1}..{y + 1}"
    if " to " in t:
        a, b = (parse_date_text(x) for x in t.split(" to ", 1))
        if a and b:
            return f"{a[:4]}..{b[-4:] if '..' in b else b[:4]}"
        return None
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t):
        return _checked(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := re.fullmatch(r"(\d{4})-(\d{2})", t):
        return f"{m.group(1)}-{m.group(2)}" if 1 <= int(m.group(2)) <= 12 else None
    if m := re.fullmatch(r"(\d{1,2}) ([a-z]{3})[a-z]* (\d{4})", t):
        month = MONTHS.get(m.group(2))
        return _checked(int(m.group(3)), month, int(m.group(1))) if month else None
    if m := re.fullmatch(r"([a-z]{3})[a-z]* (\d{4})", t):
        month = MONTHS.get(m.group(1))
        return f"{m.group(2)}-{month:02d}" if month else None
    if re.fullmatch(r"\d{4}", t):
        return t
    return None


def _checked(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


# --- OFAC -----------------------------------------------------------------------------------------------------

_AKA = re.compile(r"\b[afn]\.k\.a\.\s+'([^']+)'")
_DOB = re.compile(r"\bDOB\s+([^;]+)")
_NATIONALITY = re.compile(r"\b(?:nationality|citizen)\s+([^;]+)")
_POB = re.compile(r"\bPOB\s+([^;]+)")
_OFAC_TYPES = {EMPTY: EntryType.ENTITY, "individual": EntryType.INDIVIDUAL, "vessel": EntryType.VESSEL}
_OFAC_TYPES["aircraft"] = EntryType.AIRCRAFT


def _cell(value: str) -> str:
    value = value.strip()
    return "" if value == EMPTY else value


def _csv_rows(text: str, file_name: str) -> Iterable[tuple[int, list[str]]]:
    """(line number, cells) per record; the DOS end-of-file byte ends the file. A quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text.split("\x1a", 1)[0]), strict=True)
    line = 1
    try:
        for row in reader:
            yield line, row
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ListFileInvalid(f"not CSV ({exc})", line=reader.line_num or line, file_name=file_name) from None


def parse_ofac(
    sdn: bytes, alt: bytes | None = None, *, file_name: str = "sdn.csv", alt_name: str = "alt.csv"
) -> ParsedList:
    text = decode(sdn, file_name)
    entries: dict[str, ParsedEntry] = {}
    for line, row in _csv_rows(text, file_name):
        if not row or row == [""]:
            continue
        if len(row) != OFAC_COLUMNS:
            raise ListFileInvalid(f"{len(row)} columns, sdn.csv has {OFAC_COLUMNS}", line=line, file_name=file_name)
        ent_num, name, sdn_type, program, _title, *_vessel, remarks = (c.strip() for c in row)
        if not ent_num.isdigit():
            raise ListFileInvalid(f"ent_num {ent_num!r} is not a number", line=line, file_name=file_name)
        if not _cell(name):
            raise ListFileInvalid("SDN_Name is empty", line=line, file_name=file_name)
        if sdn_type not in _OFAC_TYPES:
            raise ListFileInvalid(
                f"SDN_Type {sdn_type!r} is not individual, vessel, aircraft or -0-", line=line, file_name=file_name
            )
        if ent_num in entries:
            raise ListFileInvalid(
                f"ent_num {ent_num} is repeated (first on line {entries[ent_num].line})", line=line, file_name=file_name
            )
        remarks = _cell(remarks)
        countries = [c for c in (country_code(m.strip()) for m in _NATIONALITY.findall(remarks)) if c]
        countries += [c for c in (country_code(m.rsplit(",", 1)[-1]) for m in _POB.findall(remarks)) if c]
        entries[ent_num] = ParsedEntry(
            entry_id=ent_num,
            entry_type=_OFAC_TYPES[sdn_type],
            name=_cell(name),
            aliases=_dedupe(a.strip() for a in _AKA.findall(remarks)),
            birth_dates=_dedupe(d for d in (parse_date_text(m) for m in _DOB.findall(remarks)) if d),
            countries=_dedupe(countries),
            programs=[p.strip() for p in _cell(program).split(";") if p.strip()] if _cell(program) else [],
            remarks=remarks,
            line=line,
        )
    if not entries:
        raise ListFileInvalid("no entries", file_name=file_name)
    if alt is not None:
        for line, row in _csv_rows(decode(alt, alt_name), alt_name):
            if not row or row == [""]:
                continue
            if len(row) != OFAC_ALT_COLUMNS:
                raise ListFileInvalid(
                    f"{len(row)} columns, alt.csv has {OFAC_ALT_COLUMNS}", line=line, file_name=alt_name
                )
            ent_num, _alt_num, _alt_type, alt_name_value = (c.strip() for c in row[:4])
            if ent_num not in entries:
                raise ListFileInvalid(f"ent_num {ent_num!r} is not in sdn.csv", line=line, file_name=alt_name)
            if not _cell(alt_name_value):
                raise ListFileInvalid("alt_name is empty", line=line, file_name=alt_name)
            entry = entries[ent_num]
            entry.aliases = _dedupe([*entry.aliases, _cell(alt_name_value)])
    return ParsedList(code="ofac-sdn", name="OFAC SDN list", source_format="ofac_sdn", entries=list(entries.values()))


# --- UN consolidated list -----------------------------------------------------------------------------------

_UN_RECORDS = {"INDIVIDUAL": EntryType.INDIVIDUAL, "ENTITY": EntryType.ENTITY}


class _UnHandler(ContentHandler):
    """Collects each INDIVIDUAL/ENTITY as {child tag: [text or {grandchild tag: text}]} with its first line."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[str, int, dict[str, list[Any]]]] = []
        self._record: dict[str, list[Any]] | None = None
        self._kind = ""
        self._line = 0
        self._stack: list[str] = []
        self._text: list[str] = []
        self._group: dict[str, str] | None = None
        self.root = ""

    def startElement(self, name: str, attrs: Any) -> None:
        if not self.root:
            self.root = name
        self._text = []
        if self._record is None:
            if name in _UN_RECORDS:
                self._record, self._kind, self._line = {}, name, self._locator.getLineNumber()  # type: ignore[attr-defined]
                self._stack = []
            return
        self._stack.append(name)
        if len(self._stack) == 1:
            self._group = {}

    def characters(self, content: str) -> None:
        self._text.append(content)

    def endElement(self, name: str) -> None:
        if self._record is None:
            return
        if not self._stack:  # the record closes
            self.records.append((self._kind, self._line, self._record))
            self._record = None
            return
        text = "".join(self._text).strip()
        self._text = []
        depth = len(self._stack)
        self._stack.pop()
        if depth == 2 and self._group is not None:
            self._group[name] = text
        elif depth == 1:
            value: Any = self._group if self._group else text
            self._record.setdefault(name, []).append(value)
            self._group = None


def _un_dates(groups: list[Any]) -> list[str]:
    out = []
    for g in groups:
        if not isinstance(g, dict):
            continue
        if g.get("DATE"):
            d = parse_date_text(g["DATE"][:10])
        elif g.get("FROM_YEAR") and g.get("TO_YEAR"):
            d = f"{g['FROM_YEAR']}..{g['TO_YEAR']}"
        elif g.get("YEAR"):
            d = (
                g["YEAR"]
                if g.get("TYPE_OF_DATE", "").upper() != "APPROXIMATELY"
                else parse_date_text(f"circa {g['YEAR']}")
            )
        else:
            d = None
        if d:
            out.append(d)
    return out


def parse_un(data: bytes, *, file_name: str = "consolidated.xml") -> ParsedList:
    handler = _UnHandler()
    try:
        defused_sax.parseString(data, handler, forbid_dtd=True)
    except SAXParseException as exc:
        raise ListFileInvalid(f"not XML ({exc.getMessage()})", line=exc.getLineNumber(), file_name=file_name) from None
    except DefusedXmlException as exc:
        raise ListFileInvalid(f"refused XML construct ({type(exc).__name__})", file_name=file_name) from None
    if handler.root != "CONSOLIDATED_LIST":
        raise ListFileInvalid(f"root element {handler.root!r}, expected CONSOLIDATED_LIST", line=1, file_name=file_name)
    entries: dict[str, ParsedEntry] = {}
    for kind, line, rec in handler.records:
        dataid = (rec.get("DATAID") or [""])[0]
        if not isinstance(dataid, str) or not dataid.strip():
            raise ListFileInvalid(f"{kind} without DATAID", line=line, file_name=file_name)
        parts = [
            p
            for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
            for p in rec.get(tag, [])
            if isinstance(p, str) and p
        ]
        if not parts:
            raise ListFileInvalid(f"{kind} {dataid} without a name", line=line, file_name=file_name)
        if dataid in entries:
            raise ListFileInvalid(
                f"DATAID {dataid} is repeated (first on line {entries[dataid].line})", line=line, file_name=file_name
            )
        alias_groups = rec.get("INDIVIDUAL_ALIAS", []) + rec.get("ENTITY_ALIAS", [])
        aliases = [g["ALIAS_NAME"] for g in alias_groups if isinstance(g, dict) and g.get("ALIAS_NAME")]
        countries = [g.get("VALUE", "") for g in rec.get("NATIONALITY", []) if isinstance(g, dict)]
        countries += [g.get("COUNTRY", "") for g in rec.get("INDIVIDUAL_PLACE_OF_BIRTH", []) if isinstance(g, dict)]
        entries[dataid] = ParsedEntry(
            entry_id=dataid,
            entry_type=_UN_RECORDS[kind],
            name=" ".join(parts),
            aliases=_dedupe(aliases),
            birth_dates=_dedupe(_un_dates(rec.get("INDIVIDUAL_DATE_OF_BIRTH", []))),
            countries=_dedupe(c for c in (country_code(x) for x in countries if x) if c),
            programs=[p for p in rec.get("UN_LIST_TYPE", []) if isinstance(p, str) and p],
            remarks=next((c for c in rec.get("COMMENTS1", []) if isinstance(c, str)), ""),
            line=line,
        )
    if not entries:
        raise ListFileInvalid("no INDIVIDUAL or ENTITY records", file_name=file_name)
    return ParsedList(
        code="un-consolidated",
        name="UN Security Council consolidated list",
        source_format="un_xml",
        entries=list(entries.values()),
    )


# --- simple CSV -----------------------------------------------------------------------------------------------

_CSV_TYPES = {t.value for t in EntryType}


def _split(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[;|]", value) if v.strip()]


def parse_simple_csv(data: bytes, *, file_name: str = "list.csv") -> list[ParsedList]:
    """A header with name, aliases, date_of_birth, country, list, type (+ an optional id). Aliases, dates and
    countries may hold several values separated by ``;`` or ``|``. Without an id column an entry's id is derived
    from its list, type, name and dates, so a corrected name reads as one entry removed and one added."""
    rows = _csv_rows(decode(data, file_name), file_name)
    try:
        _, header = next(iter(rows))
    except StopIteration:
        raise ListFileInvalid("empty file", file_name=file_name) from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ListFileInvalid(f"missing column(s) {', '.join(missing)}", line=1, file_name=file_name)
    col = {h: i for i, h in enumerate(header)}
    lists: dict[str, ParsedList] = {}
    seen: set[tuple[str, str]] = set()
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise ListFileInvalid(f"{len(row)} columns, the header has {len(header)}", line=line, file_name=file_name)
        cells = {h: row[i].strip() for h, i in col.items()}
        get = cells.get
        name, list_name = get("name") or "", get("list") or ""
        if not name:
            raise ListFileInvalid("name is empty", line=line, file_name=file_name)
        code = slugify(list_name)
        if not code:
            raise ListFileInvalid("list is empty", line=line, file_name=file_name)
        kind = (get("type") or "").lower() or EntryType.INDIVIDUAL
        if kind not in _CSV_TYPES:
            raise ListFileInvalid(
                f"type {kind!r} is not one of {', '.join(sorted(_CSV_TYPES))}", line=line, file_name=file_name
            )
        dates = []
        for text in _split(get("date_of_birth") or ""):
            parsed = parse_date_text(text)
            if parsed is None:
                raise ListFileInvalid(
                    f"date_of_birth {text!r} is not a date (YYYY-MM-DD, YYYY-MM or YYYY)",
                    line=line,
                    file_name=file_name,
                )
            dates.append(parsed)
        countries = []
        for text in _split(get("country") or ""):
            cc = country_code(text)
            if cc is None:
                raise ListFileInvalid(f"country {text!r} is not a country", line=line, file_name=file_name)
            countries.append(cc)
        entry_id = get("id") or hashlib.sha256(f"{code}|{kind}|{name}|{';'.join(dates)}".encode()).hexdigest()[:16]
        parsed_list = lists.setdefault(code, ParsedList(code=code, name=list_name, source_format="csv", entries=[]))
        if (code, entry_id) in seen:
            raise ListFileInvalid(f"entry {entry_id} is repeated in list {list_name!r}", line=line, file_name=file_name)
        seen.add((code, entry_id))
        parsed_list.entries.append(
            ParsedEntry(
                entry_id=entry_id,
                entry_type=kind,
                name=name,
                aliases=_dedupe(_split(get("aliases") or "")),
                birth_dates=_dedupe(dates),
                countries=_dedupe(countries),
                line=line,
            )
        )
    if not lists:
        raise ListFileInvalid("no entries", file_name=file_name)
    return list(lists.values())
