"""Scoring a person against one listed name: token alignment, then dates of birth and country as evidence.

The method follows the idea of OpenSanctions' logic-v2 matcher (align the parts of two names one to one, then
weigh what is left over), written here from scratch on rapidfuzz and jellyfish:

1. Align. Every query token is paired with at most one list token and the other way round, best pairs first
   (order-free, so "Last, First" and any other order align). A pair's similarity is 1.0 when equal, the
   optimal-string-alignment similarity otherwise (an adjacent swap is one edit), or 0.9 times that of their
   transliteration skeletons (``normalize.skeleton``: Khadzhdzh and Hajj agree), raised to 0.85 when the
   metaphone codes agree (transliterations: Muhammad/Mohammed, Husayn/Hussein); tokens of three letters or fewer
   must be equal or sound alike; an initial pairs with a token it starts. Pairs under 0.70 are no pairs. When
   tokens are left over, adjacent tokens glued together are tried too ("alzawahiri" ~ "al zawahiri").
2. Score the name. Each pair weighs the mean length of its two sides, times its similarity; the score is that over
   the total weight of the pairs, the unpaired query tokens (in full: a query token that matches nothing counts
   against the score as much as one that matched) and the unpaired list tokens: the longest at ``MISSING_WEIGHT``
   (a middle name the person did not give costs less), any further ones at ``MORE_MISSING_WEIGHT`` ("Maria
   Garcia" is not "GAXIOLA GARCIA, Maria Elena"), and all of them in full when query tokens are left over too (a
   first name given that is not the listed one is a conflict, not an omission: "Anne FAKHRIZADEH-MAHABADI" is
   not "FAKHRIZADEH-MAHABADI, Mohsen"). So a long name does not match on one short token: "Ali" against "Ali
   Hassan Mohammed" leaves 14 letters unpaired, scoring 0.42; and a name of several tokens of which only one
   is paired scores at most ``ONE_TOKEN_CAP`` ("Ali" against the alias "Abu Ali").
3. Evidence. A date of birth equal to a listed one raises the score (+0.10; the same year when one side has only
   the year: +0.05; one part off by one: +0.03); a date that is clearly another lowers it (-0.40: the same name
   born another year is another person); the country among the entry's raises it a little, outside them lowers it
   a little (nationality is not residence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rapidfuzz.distance import OSA

from apps.screening.normalize import TITLES, phonetic, skeleton

PAIR_MIN = 0.70
PHONETIC_SIM = 0.85
PHONETIC_FLOOR = 0.65  # a shared metaphone lifts only a pair already close (beth and buthe share "B0")
SKELETON_SIM = 0.90
INITIAL_SIM = 0.70
MISSING_WEIGHT = 0.30
MORE_MISSING_WEIGHT = 0.60
MISSING_CAP = 8  # letters: a long patronymic not given costs no more than a name of eight letters
ONE_TOKEN_CAP = 0.60
DOB_EXACT = 0.10
DOB_YEAR = 0.05
DOB_NEAR = 0.03
DOB_MISMATCH = -0.40
COUNTRY_MATCH = 0.05
COUNTRY_MISMATCH = -0.05


def token_sim(a: str, b: str, pa: str = "", pb: str = "") -> float:
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if la == 1 or lb == 1:
        return INITIAL_SIM if a[0] == b[0] and (la == 1) != (lb == 1) else 0.0
    ka, kb = skeleton(a), skeleton(b)
    if la <= 3 or lb <= 3:
        # short tokens: equal, spelled alike (hajj/hadj) or the same sound at the same length (abu/abo, ali/aly)
        if ka == kb:
            return SKELETON_SIM
        if min(la, lb) == 3 and abs(la - lb) == 1 and OSA.distance(a, b) == 1:
            return OSA.normalized_similarity(a, b)  # hajj/ajj: one letter dropped from a short token
        return PHONETIC_SIM if la == lb and pa and pa == pb and a[0] == b[0] else 0.0
    sim = max(OSA.normalized_similarity(a, b), SKELETON_SIM * OSA.normalized_similarity(ka, kb))
    if pa and pa == pb and sim >= PHONETIC_FLOOR and abs(la - lb) <= 2:
        sim = max(sim, PHONETIC_SIM)
    return sim if sim >= PAIR_MIN else 0.0


@dataclass(frozen=True)
class NameScore:
    score: float
    pairs: tuple[tuple[str, str, float], ...]
    unmatched_query: tuple[str, ...]
    unmatched_list: tuple[str, ...]


def _units(toks: tuple[str, ...], longest: int) -> list[tuple[str, tuple[int, ...]]]:
    out = []
    for n in range(2, longest + 1):
        for i in range(len(toks) - n + 1):
            out.append(("".join(toks[i : i + n]), tuple(range(i, i + n))))
    return out


def name_score(
    q: tuple[str, ...], c: tuple[str, ...], qp: tuple[str, ...] | None = None, cp: tuple[str, ...] | None = None
) -> NameScore:
    """Align query tokens ``q`` with list tokens ``c`` (``qp``/``cp``: their metaphone codes) and score 0..1."""
    if not q or not c:
        return NameScore(0.0, (), q, c)
    qp = qp or tuple(phonetic(t) for t in q)
    cp = cp or tuple(phonetic(t) for t in c)
    cands: list[tuple[float, int, tuple[int, ...], tuple[int, ...], str, str]] = []
    for i, a in enumerate(q):
        for j, b in enumerate(c):
            s = token_sim(a, b, qp[i], cp[j])
            if s:
                cands.append((s, len(a) + len(b), (i,), (j,), a, b))
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs = _greedy(list(cands), used_q, used_c)
    result = _score(q, c, pairs, used_q, used_c)
    if result.unmatched_query or result.unmatched_list or any(p[2] < 1.0 for p in result.pairs):
        # Glued tokens: "alzawahiri" ~ "al"+"zawahiri", "abdal aziz" ~ "abd al aziz". A second alignment over
        # single and glued tokens together; the better of the two stands.
        extra = list(cands)
        for a, ia in [(t, (i,)) for i, t in enumerate(q)] + _units(q, 2):
            for b, jb in [(t, (j,)) for j, t in enumerate(c)] + _units(c, 3):
                if (len(ia) == 1 and len(jb) == 1) or min(len(a), len(b)) < 4:
                    continue
                s = OSA.normalized_similarity(a, b)
                if s >= PAIR_MIN:
                    extra.append((s, len(a) + len(b), ia, jb, a, b))
        if len(extra) > len(cands):
            used_q2: set[int] = set()
            used_c2: set[int] = set()
            glued = _score(q, c, _greedy(extra, used_q2, used_c2), used_q2, used_c2)
            if glued.score > result.score:
                result = glued
    return result


def _score(
    q: tuple[str, ...],
    c: tuple[str, ...],
    pairs: list[tuple[float, float, str, str]],
    used_q: set[int],
    used_c: set[int],
) -> NameScore:
    matched = sum(w * s for s, w, _a, _b in pairs)
    total = sum(w for _s, w, _a, _b in pairs)
    unmatched_q = tuple(t for i, t in enumerate(q) if i not in used_q and t not in TITLES)
    unmatched_c = tuple(t for j, t in enumerate(c) if j not in used_c and t not in TITLES)
    missing = sorted((min(len(t), MISSING_CAP) for t in unmatched_c), reverse=True)
    total += sum(len(t) for t in unmatched_q)
    if missing and unmatched_q:  # a name part given that is not the listed one: another person, in full
        total += sum(missing)
    elif missing:  # the longest listed token left over is "the middle name not given"; more cost more
        total += MISSING_WEIGHT * missing[0] + MORE_MISSING_WEIGHT * sum(missing[1:])
    score = matched / total if total else 0.0
    named = sum(1 for t in c if t not in TITLES)
    if named >= 2 and named - len(unmatched_c) < 2:
        score = min(score, ONE_TOKEN_CAP)  # one token of a name of several is never enough
    return NameScore(
        score=score,
        pairs=tuple((a, b, round(s, 3)) for s, _w, a, b in pairs),
        unmatched_query=unmatched_q,
        unmatched_list=unmatched_c,
    )


def _greedy(cands: list, used_q: set[int], used_c: set[int]) -> list[tuple[float, float, str, str]]:
    cands.sort(key=lambda x: (-x[0], -x[1]))
    out = []
    for s, length, ia, jb, a, b in cands:
        if used_q.intersection(ia) or used_c.intersection(jb):
            continue
        used_q.update(ia)
        used_c.update(jb)
        out.append((s, length / 2, a, b))
    return out


# --- evidence -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BirthDate:
    """What a person's birth date says: a full date, or a year only."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, value: date | str | int | None) -> BirthDate | None:
        if value is None or value == "":
            return None
        if isinstance(value, date):
            return cls(value.year, value.month, value.day)
        text = str(value).strip()
        if len(text) == 4 and text.isdigit():
            return cls(int(text))
        if len(text) == 7 and text[4] == "-":
            return cls(int(text[:4]), int(text[5:7]))
        d = date.fromisoformat(text[:10])
        return cls(d.year, d.month, d.day)


def _one_off(a: BirthDate, b: BirthDate) -> bool:
    """Full dates that differ by one in exactly one part (day, month or year), or with day and month swapped."""
    parts = [(a.year, b.year), (a.month, b.month), (a.day, b.day)]
    diffs = [abs(x - y) for x, y in parts if x is not None and y is not None]
    if sorted(diffs) == [0, 0, 1]:
        return True
    return a.year == b.year and a.month == b.day and a.day == b.month


def dob_evidence(person: BirthDate | None, listed: list[str]) -> tuple[str, float]:
    """The best agreement between a person's date and an entry's dates: (kind, adjustment)."""
    if person is None or not listed:
        return "unknown", 0.0
    best = ("mismatch", DOB_MISMATCH)
    for text in listed:
        kind = _dob_kind(person, text)
        value = {"exact": DOB_EXACT, "year": DOB_YEAR, "near": DOB_NEAR, "mismatch": DOB_MISMATCH}[kind]
        if value > best[1]:
            best = (kind, value)
    return best


def _dob_kind(p: BirthDate, text: str) -> str:
    if ".." in text:
        lo, hi = (int(x) for x in text.split(".."))
        if lo <= p.year <= hi:
            return "year"
        return "near" if lo - 1 <= p.year <= hi + 1 else "mismatch"
    e = BirthDate.parse(text)
    assert e is not None
    if p.day is not None and e.day is not None:
        if (p.year, p.month, p.day) == (e.year, e.month, e.day):
            return "exact"
        return "near" if _one_off(p, e) else "mismatch"
    # one side has the year (or year and month) only: compare what both have
    if p.year == e.year:
        if p.month is not None and e.month is not None and p.month != e.month:
            return "near" if abs(p.month - e.month) == 1 else "mismatch"
        return "year"
    if abs(p.year - e.year) == 1 and (p.month is None or e.month is None or p.month == e.month):
        return "near"
    return "mismatch"


def country_evidence(country: str | None, listed: list[str]) -> tuple[str, float]:
    if not country or not listed:
        return "unknown", 0.0
    if country.upper() in listed:
        return "match", COUNTRY_MATCH
    return "mismatch", COUNTRY_MISMATCH


@dataclass
class Evidence:
    name: NameScore
    matched_name: str
    dob: str = "unknown"
    country: str = "unknown"
    adjustments: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "matched_name": self.matched_name,
            "name_score": round(self.name.score, 3),
            "pairs": [list(p) for p in self.name.pairs],
            "unmatched_query": list(self.name.unmatched_query),
            "unmatched_list": list(self.name.unmatched_list),
            "dob": self.dob,
            "country": self.country,
            "adjustments": self.adjustments,
        }


def combine(name: float, dob: float, country: float) -> float:
    return max(0.0, min(1.0, name + dob + country))
