"""Matching: each variant kind, the rules that keep common names out, evidence, the threshold, failing closed."""

from __future__ import annotations

from datetime import date

import pytest

from apps.screening.errors import ListMissing
from apps.screening.imports import import_list
from apps.screening.index import Index, IndexedEntry
from apps.screening.match import BirthDate, dob_evidence, name_score
from apps.screening.normalize import skeleton, tokens
from apps.screening.services import screen_person, threshold
from tests.screening.samples import SDN

LISTED = [
    ("1", "AL ZAWAHIRI, Dr. Ayman", ["1951-06-19"], ["EG"], []),
    ("2", "AL-ZOMOR, Abboud Abdul Latif Hassan", ["1947-04-19"], ["EG"], ["ZUMAR, Abbud"]),
    ("3", "DUNKO, Artem Konstantinovich", ["1980"], [], []),
    ("4", "MÜLLER, Jörg", [], ["DE"], []),
    ("5", "ALI, Haj", [], [], []),
    ("6", "GAXIOLA GARCIA, Maria Elena", [], [], []),
    ("7", "FAKHRIZADEH-MAHABADI, Mohsen", ["1958-03-01"], ["IR"], []),
]


@pytest.fixture(scope="module")
def index() -> Index:
    return Index(
        (IndexedEntry(None, "t", eid, "", "individual", name, tuple(d), tuple(c)), [name, *aliases])
        for eid, name, d, c, aliases in LISTED
    )


def hit(index: Index, name: str, dob: object = None, country: str | None = None) -> list[str]:
    return [m.entry.entry_id for m in index.screen(name, BirthDate.parse(dob), country, threshold=0.70)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "name", "entry"),
    [
        ("exact", "Ayman Al Zawahiri", "1"),
        ("last, first", "AL ZAWAHIRI, Ayman", "1"),
        ("another order", "Zawahiri Ayman Al", "1"),
        ("missing middle name", "Abboud Abdul Hassan Al-Zomor", "2"),
        ("long patronymic not given", "Artem Dunko", "3"),
        ("initials", "A. Al Zawahiri", "1"),
        ("accents stripped", "Jorg Muller", "4"),
        ("accents added", "Aymán al Záwahiri", "1"),
        ("transliteration (German)", "Joerg Mueller", "4"),
        ("transliteration (Cyrillic)", "Айман аль-Завахири", "1"),
        ("typo: adjacent swap", "Ayman al Zawahrii", "1"),
        ("typo: doubled letter", "Ayman al Zawahirri", "1"),
        ("typo: dropped letter", "Ayman al Zawhiri", "1"),
        ("typo: vowel replaced", "Ayman al Zawahere", "1"),
        ("joined tokens", "Ayman Alzawahiri", "1"),
        ("split token", "Ay man Al Zawahiri", "1"),
        ("alias", "Abbud Zumar", "2"),
    ],
)
def test_each_variant_kind_is_found(index: Index, kind: str, name: str, entry: str) -> None:
    assert entry in hit(index, name), kind


@pytest.mark.parametrize(
    ("why", "name"),
    [
        ("one short token of a longer name", "Ali"),
        ("the one listed token of a name of two", "Ali Smith"),
        ("two of four names", "Maria Garcia"),
        ("another first name with the family name", "Anne Fakhrizadeh-Mahabadi"),
        ("a stranger", "John Smith"),
    ],
)
def test_what_must_not_match(index: Index, why: str, name: str) -> None:
    assert hit(index, name) == [], why


def test_every_query_token_pairs_once() -> None:
    # "ali ali" does not match "ali hassan" twice over: the second "ali" pairs with nothing
    assert name_score(tokens("Ali Ali"), tokens("Ali Hassan")).score < 0.6
    assert name_score(tokens("Ali Hassan"), tokens("Hassan, Ali")).score == 1.0


@pytest.mark.parametrize(
    ("dob", "kind"),
    [
        (date(1951, 6, 19), "exact"),
        ("1951", "year"),
        (date(1951, 6, 20), "near"),
        (date(1951, 7, 19), "near"),
        (date(1952, 6, 19), "near"),
        (date(1951, 6, 6), "mismatch"),
        (date(1960, 1, 1), "mismatch"),
    ],
)
def test_birth_date_evidence(dob: object, kind: str) -> None:
    assert dob_evidence(BirthDate.parse(dob), ["1951-06-19"])[0] == kind  # type: ignore[arg-type]


def test_birth_date_against_years_and_ranges() -> None:
    assert dob_evidence(BirthDate(1980, 5, 5), ["1980"])[0] == "year"
    assert dob_evidence(BirthDate(1981, 5, 5), ["1980"])[0] == "near"
    assert dob_evidence(BirthDate(1961, 5, 5), ["1960..1962"])[0] == "year"
    assert dob_evidence(BirthDate(1970, 5, 5), ["1960..1962", "1970-05"])[0] == "year"
    assert dob_evidence(None, ["1960"])[0] == "unknown"


def test_evidence_raises_and_lowers_the_score(index: Index) -> None:
    plain = index.screen("Ayman Zawahiri", threshold=0.0)[0].score
    assert index.screen("Ayman Zawahiri", BirthDate(1951, 6, 19), "EG", threshold=0.0)[0].score > plain
    # the same name born another year is another person: below the threshold
    assert hit(index, "Ayman Al Zawahiri", date(1975, 2, 3)) == []
    assert hit(index, "Ayman Al Zawahiri", date(1951, 6, 18)) == ["1"]  # one day off
    assert hit(index, "Ayman Al Zawahiri", 1951) == ["1"]  # a year only
    away = index.screen("Ayman Al Zawahiri", None, "FR", threshold=0.0)[0]
    assert away.score < 1.0 and away.evidence.country == "mismatch"


def test_the_evidence_says_why(index: Index) -> None:
    (match,) = index.screen("Aymen Zawahiri", BirthDate(1951, 6, 19), threshold=0.7)
    ev = match.as_dict()["evidence"]
    assert ev["matched_name"] == "AL ZAWAHIRI, Dr. Ayman"  # type: ignore[index]
    assert ev["dob"] == "exact" and ["zawahiri", "zawahiri", 1.0] in ev["pairs"]  # type: ignore[index]
    assert "dr" not in ev["unmatched_list"]  # type: ignore[index]  # a title left over costs nothing


def test_skeletons_agree_across_transliterations() -> None:
    assert skeleton("khadzhdzh") == skeleton("hajj") == skeleton("hadj")
    assert skeleton("youssef") == skeleton("yusef")


def test_the_candidate_index_blocks(index: Index) -> None:
    assert index.candidates(tokens("John Smith")) == []
    assert len(index.candidates(tokens("Ayman Zawahiri"))) == 1


def test_the_threshold_is_a_setting(settings: object, index: Index) -> None:
    assert threshold() == 0.70
    settings.SCREENING_THRESHOLD = 0.99  # type: ignore[attr-defined]
    assert threshold() == 0.99


@pytest.mark.django_db
def test_screen_person_fails_closed_without_a_list() -> None:
    with pytest.raises(ListMissing) as exc:
        screen_person(name="Ivan Petrov")
    assert exc.value.code == "screening_list_missing" and exc.value.status == 503


@pytest.mark.django_db
def test_screen_person_reads_the_current_snapshots(settings: object) -> None:
    import_list(fmt="ofac_sdn", data=SDN, file_name="sdn.csv")
    (match,) = screen_person(name="Ivan Petrov", birth_date="1970-08-01", country="RU")
    assert (match.entry.list_code, match.entry.entry_id, match.evidence.dob) == ("ofac-sdn", "101", "year")
    assert match.entry.pk is not None
    assert screen_person(name="Acme Trading") == []  # entities are not screened as people
    # a new snapshot is picked up by the next screen
    import_list(fmt="ofac_sdn", data=SDN.replace(b"PETROV, Ivan", b"SIDOROV, Ivan"), file_name="sdn.csv")
    assert screen_person(name="Ivan Petrov") == []
    settings.SCREENING_THRESHOLD = 0.5  # type: ignore[attr-defined]
    assert screen_person(name="Ivan Sergeyevich Sidorov", min_score=0.99)[0].score == 1.0


@pytest.mark.django_db
def test_a_list_of_entities_only_is_a_list() -> None:
    import_list(fmt="csv", data=b"name,aliases,date_of_birth,country,list,type\nAcme,,,,Blocked firms,entity\n",
                file_name="firms.csv")  # fmt: skip
    assert screen_person(name="Acme") == []  # screened (against no individual), not refused
