"""Names to comparable tokens: one function for list names and for the people screened, so both sides agree.

unidecode folds accents and transliterates other scripts (Cyrillic, Arabic, Greek, CJK) to ASCII; case is folded;
apostrophes vanish inside a word (O'Brien, Ma'ruf -> obrien, maruf); every other punctuation separates (AL-ZOMOR ->
al zomor; "ZAWAHIRI, Ayman" -> zawahiri ayman: word order is left to the aligner, which ignores it); titles and
for entities, legal forms (LLC, OOO, Sirketi) are dropped. Titles and honorifics (Dr., Shaykh) stay: they are
often part of a listed name ("Nasser Al Sheikh") or glued to one ("Sheikhyusuf"), so the scorer pairs them when
it can and does not count them when they are left over (``TITLES``). What remains is a tuple of tokens; initials
are one-letter tokens. Joined tokens ("Alzawahiri" for "Al Zawahiri") are handled by
the aligner, which also compares adjacent tokens glued together.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish
from unidecode import unidecode

# Words that say who someone is rather than their name (OFAC writes "AL ZAWAHIRI, Dr. Ayman").
TITLES = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "miss",
        "sir",
        "dame",
        "lord",
        "lady",
        "prof",
        "professor",
        "gen",
        "general",
        "col",
        "colonel",
        "maj",
        "major",
        "capt",
        "captain",
        "lt",
        "sgt",
        "shaykh",
        "sheikh",
        "shaikh",
        "sheik",
        "haji",
        "hajji",
        "hadji",
        "mullah",
        "mulla",
        "maulana",
        "imam",
        "ayatollah",
        "sayyid",
        "sayed",
        "syed",
    ]
)
# Legal forms of companies, dropped from entity names only (a person may be called "Sa" or "Ag").
LEGAL_FORMS = frozenset(
    [
        "ltd",
        "limited",
        "llc",
        "inc",
        "incorporated",
        "co",
        "corp",
        "corporation",
        "company",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "aps",
        "jsc",
        "ojsc",
        "cjsc",
        "pjsc",
        "ooo",
        "oao",
        "zao",
        "pao",
        "tov",
        "llp",
        "lp",
        "fze",
        "fzco",
        "fzc",
        "sirketi",
        "ticaret",
        "anonim",
        "as",
        "sti",
        "est",
        "establishment",
        "group",
        "holding",
        "holdings",
    ]
)
_APOSTROPHES = re.compile(r"['`´’‘ʼʻ]")  # noqa: RUF001 (these are the apostrophes)
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=200_000)
def tokens(text: str, *, entity: bool = False) -> tuple[str, ...]:
    folded = _APOSTROPHES.sub("", unidecode(text).lower())
    out = [t for t in _SEPARATORS.split(folded) if t]
    if entity:
        out = [t for t in out if t not in LEGAL_FORMS] or out
    return tuple(out)


@lru_cache(maxsize=400_000)
def phonetic(token: str) -> str:
    """Metaphone of a token (supporting evidence: Mohammed, Muhammad and Mohamed agree; "" for digits)."""
    return jellyfish.metaphone(token) if token.isalpha() and len(token) > 1 else ""


# Spellings that transliteration systems disagree on, to one canonical spelling (applied in this order).
_SKELETON = (
    ("dzh", "j"), ("dj", "j"), ("zh", "j"), ("kh", "h"), ("gh", "g"), ("ph", "f"), ("th", "t"), ("dh", "d"),
    ("sch", "sh"), ("tch", "ch"), ("ch", "\x00"), ("sh", "\x01"), ("ou", "u"), ("oo", "u"), ("ee", "i"),
    ("ie", "i"), ("ey", "ei"), ("y", "i"), ("w", "v"), ("q", "k"), ("ck", "k"), ("c", "k"), ("x", "ks"),
    ("\x00", "ch"), ("\x01", "sh"),
)  # fmt: skip
_DOUBLED = re.compile(r"(.)\1+")


@lru_cache(maxsize=400_000)
def skeleton(token: str) -> str:
    """A token spelled the way most transliterations agree on: Khadzhdzh, Hajj and Hadj are all "haj"; Youssef
    and Yusef are "iusef". Compared beside the token itself (a close skeleton is a close transliteration)."""
    for a, b in _SKELETON:
        if a in token:
            token = token.replace(a, b)
    return _DOUBLED.sub(r"\1", token)


def deletions(token: str) -> set[str]:
    """The token and every string one deletion away: two tokens within one edit (a substitution, an insertion,
    a deletion or an adjacent swap) share one of these, which is what the candidate index looks up."""
    return {token, *(token[:i] + token[i + 1 :] for i in range(len(token)))}


def display(text: str) -> str:
    return " ".join(tokens(text))
