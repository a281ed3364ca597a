"""The documented contract matches the code: docs/ERRORS.md's tables are generated from the error classes, every
listed code is provoked by a test, no raise site names an ad-hoc code, and every API scope is in the README (the
platform generates its client and its handling from these)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.core.management import call_command

from apps.api.scopes import RETIRED_SCOPES, Scope
from apps.core.errors import CATALOGUE, ApplicationError
from apps.core.management.commands.error_catalogue import render, tables

ROOT = Path(__file__).resolve().parents[2]
REASON = re.compile(r'deny\(\s*"([a-z_]+)"')


def _sources(top: str) -> dict[Path, str]:
    return {p: p.read_text() for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts}


def test_the_docs_tables_are_the_generated_catalogue():
    """Run ``manage.py error_catalogue --write`` after adding or changing an error class."""
    text = (ROOT / "docs/ERRORS.md").read_text()
    assert render(text) == text
    assert len(tables()) >= 6 and len(CATALOGUE) > 60  # every app's errors module was found


def test_the_command_prints_every_domain(capsys):
    call_command("error_catalogue")
    out = capsys.readouterr().out
    assert all(f"## {domain}" in out for domain in tables())
    assert "| `withdrawal_not_open` | 409 |" in out


def test_every_listed_code_is_provoked_by_a_test():
    """The before-stop hook's rule: each code is named, quoted, somewhere under tests/."""
    tests = "\n".join(text for path, text in _sources("tests").items() if path.name != "test_error_docs.py")
    tables()
    listed = {e.code for e in CATALOGUE.values() if e.domain is not None}
    assert sorted(c for c in listed if f'"{c}"' not in tests and f"'{c}'" not in tests) == []


def test_no_raise_site_names_a_code_of_its_own():
    """A code is a class (apps/<app>/errors.py); only a class marked ``dynamic_code`` passes codes it computes."""
    error_classes = {name for name, entry in _error_class_names().items() if not getattr(entry, "dynamic_code", False)}
    ad_hoc = []
    for path, text in _sources("apps").items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in error_classes:
                ad_hoc += [f"{path.relative_to(ROOT)}:{node.lineno}" for kw in node.keywords if kw.arg == "code"]
    assert ad_hoc == []


def _error_class_names() -> dict[str, type[ApplicationError]]:
    tables()
    found: dict[str, type[ApplicationError]] = {}
    pending: list[type[ApplicationError]] = [ApplicationError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending += cls.__subclasses__()
    return found


def test_every_scope_is_in_the_readme_and_the_retired_one_says_what_replaced_it():
    readme = (ROOT / "README.md").read_text()
    assert [s for s in Scope.values if f"`{s}`" not in readme] == []
    for retired, replacements in RETIRED_SCOPES.items():
        assert f"`{retired}`" in readme and all(f"`{r}`" in readme for r in replacements)


def test_every_eligibility_reason_is_documented():
    documented = set(re.findall(r"`([a-z_]+)`", (ROOT / "docs/ERRORS.md").read_text()))
    reasons = set(REASON.findall("\n".join(_sources("apps").values())))
    assert len(reasons) > 10 and sorted(reasons - documented) == []


def test_the_eligibility_endpoint_lists_every_reason_can_answer():
    """The platform reads the reasons from the schema: the description must not drift from the checks."""
    from drf_spectacular.generators import SchemaGenerator

    from apps.responsible.checks import REASONS as EXCLUSION_REASONS

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = next(
        op for ops in schema["paths"].values() for op in ops.values() if op.get("operationId") == "players_eligibility"
    )
    listed = set(re.findall(r"[a-z_]+", operation["description"]))
    reasons = set(REASON.findall("\n".join(_sources("apps").values())))
    reasons |= set(EXCLUSION_REASONS.values()) | {"self_excluded_national", "register_unavailable"}
    reasons |= {f"account_{s}" for s in ("suspended", "blocked", "closed")}
    reasons |= {f"blocked_for_{c}" for c in ("deposit", "bet", "withdrawal", "bonus", "marketing")}
    assert sorted(reasons - listed) == []
