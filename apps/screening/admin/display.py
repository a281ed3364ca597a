"""The words the screening pages use: a hit's evidence as an analyst reads it, the state badges, the player link."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html

from apps.screening.models import HitState

DOB_WORDS = {
    "exact": "the same date of birth",
    "year": "the same year of birth (one side gives only a year, or it falls in the listed range)",
    "near": "a date of birth one part off (day, month or year), or day and month swapped",
    "mismatch": "a different date of birth: probably another person",
    "unknown": "no date of birth to compare (one side has none)",
}
COUNTRY_WORDS = {
    "match": "the player's country is among the entry's nationality, citizenship or birth countries",
    "mismatch": "the player's country is not among the entry's countries",
    "unknown": "no country to compare (the entry lists none)",
}
# the state badges: unfold's 100 fills with the theme's 800 text where its 700s fall under 4.5:1 (as kyc does)
STATE_TONES = {
    HitState.OPEN: ("bg-orange-100", "color: var(--color-orange-800)"),
    HitState.CONFIRMED: ("bg-red-100 text-red-700", ""),
    HitState.FALSE_POSITIVE: ("bg-green-100", "color: var(--color-green-800)"),
    HitState.WITHDRAWN: ("bg-base-100", ""),
}


def _signed(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return f" ({number:+.2f})" if number else ""


def evidence_words(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """The stored evidence (``match.Evidence.as_dict``) as (label, sentence) rows; unknown keys are ignored, a
    malformed value reads "not recorded" rather than failing the page."""
    evidence = evidence if isinstance(evidence, dict) else {}
    rows: list[tuple[str, str]] = []
    score = evidence.get("name_score")
    if isinstance(score, int | float):
        rows.append(("Name score", f"{score:.3f} of 1 for the name alone"))
    pairs = []
    for pair in evidence.get("pairs") or []:
        if isinstance(pair, list | tuple) and len(pair) == 3:
            given, listed, similarity = pair
            try:
                sim = float(similarity)
            except (TypeError, ValueError):
                continue
            pairs.append(f"“{given}” = “{listed}”" if sim >= 1 else f"“{given}” ~ “{listed}” ({sim:.0%} alike)")
    rows.append(("Name parts paired", "; ".join(pairs) if pairs else "none recorded"))
    unmatched_query = [str(t) for t in evidence.get("unmatched_query") or []]
    unmatched_list = [str(t) for t in evidence.get("unmatched_list") or []]
    if unmatched_query:
        rows.append(("Player's name parts not found", ", ".join(unmatched_query)))
    if unmatched_list:
        rows.append(("Listed name parts not in the player's", ", ".join(unmatched_list)))
    found = evidence.get("adjustments")
    adjustments: dict[str, Any] = found if isinstance(found, dict) else {}
    dob = str(evidence.get("dob") or "unknown")
    rows.append(("Date of birth", DOB_WORDS.get(dob, dob) + _signed(adjustments.get("dob"))))
    country = str(evidence.get("country") or "unknown")
    rows.append(("Country", COUNTRY_WORDS.get(country, country) + _signed(adjustments.get("country"))))
    return rows


def state_badge(state: str) -> str:
    fill, colour = STATE_TONES.get(state, ("bg-base-100", ""))  # type: ignore[call-overload]
    label = dict(HitState.choices).get(state, state)
    return format_html(
        '<span class="screening-state screening-state-{} inline-block px-2 py-0.5 rounded font-semibold text-xs {}"'
        ' style="{}">{}</span>',
        state,
        fill,
        colour,
        label,
    )


def player_link(player: Any) -> str:
    url = reverse("admin:players_player_change", args=[player.pk])
    return format_html(
        '<a class="underline" href="{}">{} {}</a> <span class="text-font-subtle-light">{}</span>',
        url,
        player.first_name,
        player.last_name,
        player.external_id,
    )
