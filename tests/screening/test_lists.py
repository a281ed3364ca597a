"""Reading watchlist files: OFAC (the real 2024 file and small ones), the UN XML, the simple CSV, and refusals."""

from __future__ import annotations

import pytest

from apps.screening.errors import ListFileInvalid
from apps.screening.lists import country_code, parse_date_text, parse_ofac, parse_simple_csv, parse_un
from tests.screening.conftest import OFAC_SDN
from tests.screening.samples import ALT, SDN, SIMPLE_CSV, UN_XML


def test_the_real_ofac_file_is_read_whole() -> None:
    with open(OFAC_SDN, "rb") as f:
        parsed = parse_ofac(f.read())
    assert len(parsed.entries) == 14965  # every line but the DOS end-of-file byte
    by_id = {e.entry_id: e for e in parsed.entries}
    zawahiri = by_id["2676"]
    assert zawahiri.name == "AL ZAWAHIRI, Dr. Ayman"
    assert zawahiri.entry_type == "individual"
    assert zawahiri.birth_dates == ["1951-06-19"]
    assert zawahiri.countries == ["EG"]  # from "POB Giza, Egypt"
    assert by_id["2678"].birth_dates == ["1946"]
    assert by_id["306"].entry_type == "entity" and by_id["306"].aliases == ["BNC"]
    assert sum(e.entry_type == "individual" for e in parsed.entries) == 6854


def test_ofac_with_alt_aliases() -> None:
    parsed = parse_ofac(SDN, ALT)
    zomor = parsed.entries[0]
    assert zomor.aliases == ["ZUMAR, Abbud", "AL-ZUMAR, Abboud"]
    assert zomor.birth_dates == ["1947-04-19"] and zomor.countries == ["EG"]
    assert parsed.entries[1].birth_dates == ["1970"] and parsed.entries[1].countries == ["RU"]
    assert parsed.entries[2].entry_type == "entity"


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b'1,"X","individual"\r\n', 1, "3 columns, sdn.csv has 12"),
        (SDN.replace(b"101,", b"10x,"), 2, "ent_num '10x' is not a number"),
        (SDN.replace(b'"PETROV, Ivan Sergeyevich"', b"-0- "), 2, "SDN_Name is empty"),
        (SDN.replace(b'"individual","RUSSIA', b'"robot","RUSSIA'), 2, "SDN_Type 'robot'"),
        (SDN.replace(b"101,", b"100,"), 2, "ent_num 100 is repeated (first on line 1)"),
        (SDN.replace(b"PETROV", b"PETR\xff"), 2, "not UTF-8"),
        (SDN.replace(b'"ACME TRADING LLC"', b'"ACME "TRADING" LLC"'), 3, "not CSV"),
    ],
)
def test_a_malformed_ofac_file_names_the_line_and_the_reason(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(ListFileInvalid) as exc:
        parse_ofac(data)
    assert exc.value.line == line
    assert reason in exc.value.reason
    assert exc.value.code == "list_file_invalid"


def test_a_malformed_alt_file_is_refused() -> None:
    with pytest.raises(ListFileInvalid, match=r"alt.csv, line 1: ent_num '999' is not in sdn.csv"):
        parse_ofac(SDN, b'999,1,"aka","X",-0- \r\n')
    with pytest.raises(ListFileInvalid, match=r"4 columns, alt.csv has 5"):
        parse_ofac(SDN, b'100,1,"aka","X"\r\n')


def test_the_un_list() -> None:
    parsed = parse_un(UN_XML)
    assert parsed.code == "un-consolidated"
    ri, basir, qaida = parsed.entries
    assert (ri.entry_id, ri.name, ri.entry_type) == ("6908555", "RI WON HO", "individual")
    assert ri.aliases == ["Ri Won-ho"] and ri.birth_dates == ["1964-07-17"] and ri.countries == ["KP"]
    assert ri.programs == ["DPRK"]
    assert basir.birth_dates == ["1960..1962", "1957..1959"]
    assert (qaida.entry_type, qaida.aliases) == ("entity", ["The Base"])


def test_a_malformed_un_file() -> None:
    with pytest.raises(ListFileInvalid) as exc:
        parse_un(UN_XML.replace(b"</SECOND_NAME>", b"</SECOND>", 1))
    assert exc.value.line == 7 and "not XML" in exc.value.reason
    with pytest.raises(ListFileInvalid, match=r"line 4: INDIVIDUAL without DATAID"):
        parse_un(UN_XML.replace(b"<DATAID>6908555</DATAID>", b""))
    with pytest.raises(ListFileInvalid, match=r"DATAID 110 is repeated"):
        parse_un(UN_XML.replace(b"<DATAID>6908555</DATAID>", b"<DATAID>110</DATAID>"))
    with pytest.raises(ListFileInvalid, match=r"root element 'LIST'"):
        parse_un(b"<LIST><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>A</FIRST_NAME></INDIVIDUAL></LIST>")


def test_an_xml_bomb_is_refused_before_expansion() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b"<CONSOLIDATED_LIST>&lol2;</CONSOLIDATED_LIST>"
    )
    with pytest.raises(ListFileInvalid, match=r"refused XML construct"):
        parse_un(bomb)


def test_the_simple_csv() -> None:
    peps, blocklist = parse_simple_csv(SIMPLE_CSV)
    assert (peps.code, peps.name) == ("local-peps", "Local PEPs")
    joerg, anna = peps.entries
    assert joerg.aliases == ["Joerg Mueller", "George Miller"] and joerg.birth_dates == ["1961-03-04"]
    assert anna.countries == ["PL"] and anna.birth_dates == ["1975"]
    assert blocklist.entries[0].entry_type == "entity"


def test_the_simple_csv_without_ids_derives_stable_ones() -> None:
    data = b"name,aliases,date_of_birth,country,list,type\nJane Doe,,1980,GB,PEP,\n"
    (first,) = parse_simple_csv(data)
    (again,) = parse_simple_csv(data)
    assert first.entries[0].entry_id == again.entries[0].entry_id
    assert first.entries[0].entry_type == "individual"


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"name,list\nX,Y\n", 1, "missing column(s) aliases, date_of_birth, country, type"),
        (b"name,aliases,date_of_birth,country,list,type\n,,,,L,\n", 2, "name is empty"),
        (b"name,aliases,date_of_birth,country,list,type\nA,,,,,\n", 2, "list is empty"),
        (b"name,aliases,date_of_birth,country,list,type\nA,,31/02/1970,,L,\n", 2, "date_of_birth '31/02/1970'"),
        (b"name,aliases,date_of_birth,country,list,type\nA,,1970-02-31,,L,\n", 2, "date_of_birth '1970-02-31'"),
        (b"name,aliases,date_of_birth,country,list,type\nA,,,Atlantis,L,\n", 2, "country 'Atlantis'"),
        (b"name,aliases,date_of_birth,country,list,type\nA,,,,L,robot\n", 2, "type 'robot'"),
        (b"name,aliases,date_of_birth,country,list,type\nA,,,,L\n", 2, "5 columns, the header has 6"),
        (b"id,name,aliases,date_of_birth,country,list,type\n1,A,,,,L,\n1,B,,,,L,\n", 3, "entry 1 is repeated"),
    ],
)
def test_a_malformed_simple_csv(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(ListFileInvalid) as exc:
        parse_simple_csv(data)
    assert exc.value.line == line
    assert reason in exc.value.reason


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("10 Oct 1960", "1960-10-10"),
        ("Oct 1960", "1960-10"),
        ("1960", "1960"),
        ("circa 1960", "1959..1961"),
        ("1960 to 1962", "1960..1962"),
        ("01 Jan 1960 to 31 Dec 1962", "1960..1962"),
        ("1960-10-10", "1960-10-10"),
        ("31 Feb 1960", None),
        ("sometime", None),
    ],
)
def test_dates_as_lists_write_them(text: str, parsed: str | None) -> None:
    assert parse_date_text(text) == parsed


def test_countries_as_lists_write_them() -> None:
    assert [country_code(c) for c in ("Egypt", "Russia", "Korea, North", "Burma", "gb", "Jalisco")] == [
        "EG",
        "RU",
        "KP",
        "MM",
        "GB",
        None,
    ]
