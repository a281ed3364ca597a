"""The documented contract matches the code: every error code and eligibility reason the apps can answer is in
docs/ERRORS.md, and every API scope is in the README (the platform generates its client and its handling from
these)."""

from __future__ import annotations

import re
from pathlib import Path

from apps.api.scopes import RETIRED_SCOPES, Scope

ROOT = Path(__file__).resolve().parents[2]
# the same pattern the before-stop hook uses, plus eligibility reasons (``deny("...")``)
CODE = re.compile(r'\bcode ?= ?"([a-z_]+)"')
REASON = re.compile(r'deny\(\s*"([a-z_]+)"')
NOT_ERRORS = {ROOT / "apps/responsible/registers.py"}  # ``code`` there names a national register adapter


def raised_codes() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "apps").rglob("*.py"):
        if "migrations" in path.parts or path in NOT_ERRORS:
            continue
        text = path.read_text()
        codes.update(CODE.findall(text))
        codes.update(REASON.findall(text))
    return codes


def test_every_error_code_and_reason_is_documented():
    documented = set(re.findall(r"`([a-z_]+)`", (ROOT / "docs/ERRORS.md").read_text()))
    codes = raised_codes()
    assert len(codes) > 60  # the scan finds them
    assert sorted(codes - documented) == []


def test_every_scope_is_in_the_readme_and_the_retired_one_says_what_replaced_it():
    readme = (ROOT / "README.md").read_text()
    assert [s for s in Scope.values if f"`{s}`" not in readme] == []
    for retired, replacements in RETIRED_SCOPES.items():
        assert f"`{retired}`" in readme and all(f"`{r}`" in readme for r in replacements)


def test_the_eligibility_endpoint_lists_every_reason_can_answer():
    """The platform reads the reasons from the schema: the description must not drift from the checks."""
    from drf_spectacular.generators import SchemaGenerator

    from apps.responsible.checks import REASONS as EXCLUSION_REASONS

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = next(
        op for ops in schema["paths"].values() for op in ops.values() if op.get("operationId") == "players_eligibility"
    )
    listed = set(re.findall(r"[a-z_]+", operation["description"]))
    reasons = {c for c in raised_codes() if c in set(REASON.findall(_all_sources()))}
    reasons |= set(EXCLUSION_REASONS.values()) | {"self_excluded_national", "register_unavailable"}
    reasons |= {f"account_{s}" for s in ("suspended", "blocked", "closed")}
    reasons |= {f"blocked_for_{c}" for c in ("deposit", "bet", "withdrawal", "bonus", "marketing")}
    assert sorted(reasons - listed) == []


def _all_sources() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "apps").rglob("*.py") if "migrations" not in p.parts)
