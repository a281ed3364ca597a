"""The candidate index: which listed names are worth scoring for a person, without scoring them all.

Blocking keys per listed token: the token itself, and for tokens of four letters or more every string one deletion
away (two tokens within one edit always share one: the symmetric-deletion trick), the transliteration skeleton
and the metaphone code (for transliterations two or more edits apart); adjacent tokens glued together are keys
too. A query looks up the same keys for its own tokens and glued pairs. A listed name is a candidate when every
one of the query's tokens of three letters or more hits it (all but one when there are three or more): the
scorer counts an unpaired query token in full, so a name missing one of two query tokens could not reach the
threshold anyway, and one common token such as "mohammed" alone does not make thousands of candidates.

Built from the individuals of the current snapshots and cached per process, keyed by the snapshot ids: an import
makes a new key, and the next screen rebuilds (about a second for the OFAC list). ``Index`` itself knows nothing of
the database, so the benchmark and the tests can build one from parsed files.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from apps.screening.match import (
    BirthDate,
    Evidence,
    combine,
    country_evidence,
    dob_evidence,
    name_score,
)
from apps.screening.normalize import TITLES, deletions, phonetic, skeleton, tokens

MIN_KEY_TOKEN = 4  # shorter tokens are keyed by themselves only (their deletions would match everything)


@dataclass(frozen=True)
class IndexedEntry:
    pk: int | None  # ListEntry id (None for an index built from a file)
    list_code: str
    entry_id: str
    content_hash: str
    entry_type: str
    name: str
    birth_dates: tuple[str, ...]
    countries: tuple[str, ...]


@dataclass(frozen=True)
class IndexedName:
    entry: int  # position in Index.entries
    text: str
    tokens: tuple[str, ...]
    phonetics: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """One entry a person scored against at or above the threshold (the best of the entry's names)."""

    entry: IndexedEntry
    score: float
    evidence: Evidence

    def as_dict(self) -> dict[str, object]:
        return {
            "entry_pk": self.entry.pk,
            "list": self.entry.list_code,
            "entry_id": self.entry.entry_id,
            "name": self.entry.name,
            "score": round(self.score, 3),
            "evidence": self.evidence.as_dict(),
        }


def token_keys(token: str) -> set[str]:
    if len(token) < 3:
        return {token}
    if len(token) < MIN_KEY_TOKEN:
        return {token, "~" + skeleton(token)}
    keys = deletions(token)
    keys.add("~" + skeleton(token))
    code = phonetic(token)
    if len(code) >= 2:
        keys.add("#" + code)
    return keys


class Index:
    def __init__(self, entries: Iterable[tuple[IndexedEntry, Iterable[str]]], *, key: object = None) -> None:
        """``entries``: each entry with all its names (the primary name first, then aliases)."""
        self.key = key
        self.entries: list[IndexedEntry] = []
        self.names: list[IndexedName] = []
        postings: dict[str, set[int]] = defaultdict(set)
        for entry, names in entries:
            e = len(self.entries)
            self.entries.append(entry)
            seen = set()
            for text in names:
                toks = tokens(text)
                if not toks or toks in seen:
                    continue
                seen.add(toks)
                n = len(self.names)
                self.names.append(IndexedName(e, text, toks, tuple(phonetic(t) for t in toks)))
                for t in toks:
                    for k in token_keys(t):
                        postings[k].add(n)
                for size in (2, 3):
                    for i in range(len(toks) - size + 1):
                        postings["".join(toks[i : i + size])].add(n)
        self.postings = {k: tuple(v) for k, v in postings.items()}

    def __len__(self) -> int:
        return len(self.entries)

    def candidates(self, toks: tuple[str, ...]) -> list[int]:
        """Name positions whose keys are hit by at least half of the query's longer tokens (or glued pairs)."""
        lookups = [t for t in dict.fromkeys(toks) if len(t) >= 3 and t not in TITLES]
        glued = ["".join(toks[i : i + 2]) for i in range(len(toks) - 1)]
        if not lookups:
            lookups = list(dict.fromkeys(t for t in toks if len(t) >= 2))
        hits: dict[int, int] = defaultdict(int)
        for t in lookups:
            found: set[int] = set()
            for k in token_keys(t):
                p = self.postings.get(k)
                if p:
                    found.update(p)
            for n in found:
                hits[n] += 1
        for g in glued:  # "al zawahiri" looked up as the listed "alzawahiri" (exactly: glued keys are exact)
            for n in self.postings.get(g, ()):
                hits[n] += 1
        need = len(lookups) if len(lookups) <= 2 else len(lookups) - 1
        return [n for n, count in hits.items() if count >= need]

    def screen(
        self,
        name: str,
        birth_date: BirthDate | None = None,
        country: str | None = None,
        *,
        threshold: float,
        limit: int = 10,
    ) -> list[Match]:
        """The entries scoring at or above ``threshold``, best first (one Match per entry)."""
        toks = tokens(name)
        if not toks:
            return []
        qp = tuple(phonetic(t) for t in toks)
        best: dict[int, tuple[float, IndexedName, object]] = {}
        for n in self.candidates(toks):
            iname = self.names[n]
            ns = name_score(toks, iname.tokens, qp, iname.phonetics)
            if ns.score + 0.15 < threshold:  # no evidence could lift it (+0.10 birth date, +0.05 country)
                continue
            entry = self.entries[iname.entry]
            dob_kind, dob_adj = dob_evidence(birth_date, list(entry.birth_dates))
            c_kind, c_adj = country_evidence(country, list(entry.countries))
            score = combine(ns.score, dob_adj, c_adj)
            if score < threshold:
                continue
            if iname.entry not in best or score > best[iname.entry][0]:
                ev = Evidence(
                    name=ns,
                    matched_name=iname.text,
                    dob=dob_kind,
                    country=c_kind,
                    adjustments={"dob": dob_adj, "country": c_adj},
                )
                best[iname.entry] = (score, iname, ev)
        out = [Match(self.entries[e], s, ev) for e, (s, _n, ev) in best.items()]  # type: ignore[arg-type]
        out.sort(key=lambda m: (-m.score, m.entry.list_code, m.entry.entry_id))
        return out[:limit]


# --- the process-wide index of the current snapshots ------------------------------------------------------------

_lock = threading.Lock()
_cached: Index | None = None
SCREENED_TYPES = ("individual",)


def current_snapshot_ids() -> tuple[int, ...]:
    from apps.screening.models import WatchList

    return tuple(sorted(WatchList.objects.exclude(current=None).values_list("current_id", flat=True)))


def build_from_db(snapshot_ids: tuple[int, ...]) -> Index:
    from apps.screening.models import ListEntry

    rows = (
        ListEntry.objects.filter(snapshot_id__in=snapshot_ids, entry_type__in=SCREENED_TYPES)
        .values_list(
            "pk",
            "snapshot__watchlist__code",
            "entry_id",
            "content_hash",
            "entry_type",
            "name",
            "aliases",
            "birth_dates",
            "countries",
        )
        .order_by("pk")
        .iterator(chunk_size=5000)
    )
    return Index(
        (
            (
                IndexedEntry(pk, code, eid, h, etype, name, tuple(dobs), tuple(countries)),
                [name, *aliases],
            )
            for pk, code, eid, h, etype, name, aliases, dobs, countries in rows
        ),
        key=snapshot_ids,
    )


def current_index() -> Index:
    """The index of the current snapshots (one small query per call to notice a new import)."""
    global _cached
    ids = current_snapshot_ids()
    cached = _cached
    if cached is not None and cached.key == ids:
        return cached
    with _lock:
        if _cached is None or _cached.key != ids:
            _cached = build_from_db(ids)
        return _cached


def clear_cache() -> None:
    global _cached
    with _lock:
        _cached = None
