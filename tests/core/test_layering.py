"""The apps' layers hold (docs/ARCHITECTURE.md, "Layers"): a module imports only its own app and the apps of lower
layers. Every module under apps/ is parsed, and an import anywhere in it counts, inside a function too.

Besides ``import``/``from ... import``, three other ways of naming code count as a dependency outside the
migrations: a dotted path ``"apps.<app>...."`` passed to a call (``import_string``, ``import_module``,
``browser_only``), a model named ``"<app>.<Model>"`` in a relation field, and ``get_model("<app>", ...)``. The
few crossings that exist are declared below with their reason; a new one fails by name, and a declared one
that disappears must be taken out of the list (it only shrinks).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"

# A module may import its own app and the apps of lower layers. Apps sharing a layer do not import each other,
# except the foundation's two: core's own services write the audit trail (audit_log, AuditActor), and audit
# uses core's request context and admin building blocks.
LAYERS: dict[str, int] = {
    "core": 0,
    "audit": 0,
    "staff": 1,
    "api": 2,
    "geo": 3,
    "players": 4,
    "approvals": 5,
    "wallet": 6,
    "responsible": 7,
    "kyc": 7,
    "bonuses": 8,
    "compliance": 9,
    "screening": 10,
    "sars": 10,
    "crm": 11,
    "reports": 12,
}
FOUNDATION = frozenset({"core", "audit"})

# (importing module, imported app): why. Each is debt, and the way out is named.
KNOWN_CROSSINGS: dict[tuple[str, str], str] = {
    ("apps.api.models", "players"): "ApiClient.brands binds a client to players.Brand (the binding belongs in "
    "players: a through model there, with migrations in both apps)",
    ("apps.api.services", "players"): "api_client_create/update bind the brands (Brand.objects.default())",
    ("apps.api.admin", "players"): "the client form's brand boxes and the brand list filter",
    ("apps.api.management.commands.create_api_client", "players"): "--brands looks the brands up by code",
    ("apps.api.commands", "players"): "the command base view scopes the URL's player to the client's brands "
    "(players.selectors) and applies the control-character rule of players.validation (the rule belongs in core; "
    "the lookup goes with the brand binding)",
    ("apps.api.commands", "wallet"): "idempotent commands run through wallet.idempotency (an Idempotency-Key store "
    "is API plumbing: IdempotencyRecord belongs in apps.api, a model move with migrations in both apps)",
    ("apps.core.lanes", "staff"): "the staff middleware's browser-only wrappers (StaffNetworks, StaffEnrolment) "
    "belong in apps.staff.middleware, named from settings.MIDDLEWARE",
}

RELATION_FIELDS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})
DOTTED_APP_PATH = re.compile(r"apps\.([a-z_]+)(\.[A-Za-z_][A-Za-z0-9_]*)+")
MODEL_LABEL = re.compile(r"([a-z_]+)\.[A-Z][A-Za-z0-9]*")


@dataclass(frozen=True)
class Dependency:
    module: str  # apps.players.services
    app: str  # the app it depends on
    where: str  # path:line and what was named

    @property
    def own_app(self) -> str:
        return self.module.split(".")[1]


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _strings(node: ast.Call) -> list[str]:
    values = [*node.args, *(k.value for k in node.keywords)]
    return [v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)]


def dependencies(path: Path, root: Path = ROOT) -> list[Dependency]:
    module = module_name(path, root)
    tree = ast.parse(path.read_text(), filename=str(path))
    in_migrations = "migrations" in path.parts
    found: list[Dependency] = []

    def add(app: str, node: ast.AST, what: str) -> None:
        found.append(Dependency(module, app, f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)} {what}"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("apps."):
                    add(alias.name.split(".")[1], node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, path, node)
            if target == "apps":  # from apps import players
                for alias in node.names:
                    add(alias.name, node, f"from apps import {alias.name}")
            elif target.startswith("apps."):
                add(target.split(".")[1], node, f"from {target} import ...")
        elif isinstance(node, ast.Call) and not in_migrations:
            name = _call_name(node)
            for text in _strings(node):
                match = DOTTED_APP_PATH.fullmatch(text)
                if match is None and name in RELATION_FIELDS:
                    match = MODEL_LABEL.fullmatch(text)
                if match is not None:
                    add(match.group(1), node, f"{name}({text!r})")
            if name == "get_model" and node.args and isinstance(node.args[0], ast.Constant):
                add(str(node.args[0].value), node, f"get_model({node.args[0].value!r}, ...)")
    return found


def all_dependencies() -> list[Dependency]:
    modules = [path for path in sorted(APPS.rglob("*.py")) if len(path.relative_to(APPS).parts) > 1]
    return [d for path in modules for d in dependencies(path)]


def allowed(own: str, other: str) -> bool:
    if other == own or other not in LAYERS:  # not one of our apps (auth, contenttypes, a library's label)
        return True
    if own in FOUNDATION and other in FOUNDATION:
        return True
    return LAYERS[other] < LAYERS[own]


def crossings() -> list[Dependency]:
    return [d for d in all_dependencies() if not allowed(d.own_app, d.app)]


def test_every_app_has_a_layer():
    apps = {p.name for p in APPS.iterdir() if p.is_dir() and (p / "apps.py").exists()}
    assert sorted(apps - LAYERS.keys()) == [], "declare the new app's layer here and in docs/ARCHITECTURE.md"


def test_no_module_imports_an_app_above_its_layer():
    new = [d.where for d in crossings() if (d.module, d.app) not in KNOWN_CROSSINGS]
    assert new == [], "a lower layer names a higher one; register a hook from the higher app's AppConfig.ready()"


def test_every_known_crossing_still_exists():
    seen = {(d.module, d.app) for d in crossings()}
    assert sorted(set(KNOWN_CROSSINGS) - seen) == [], "fixed: take it out of KNOWN_CROSSINGS"


def test_core_names_no_app_but_audit():
    """The point of the layers: core is the bottom, with the audit trail beside it (lanes.py: declared debt)."""
    above = {(d.module, d.app) for d in all_dependencies() if d.own_app == "core" and d.app not in FOUNDATION}
    above = {pair for pair in above if pair[1] in LAYERS}
    assert above <= {("apps.core.lanes", "staff")}


def test_the_scan_sees_imports_inside_functions_relative_imports_and_named_paths(tmp_path):
    app = tmp_path / "apps" / "core"
    app.mkdir(parents=True)
    source = app / "sample.py"
    source.write_text(
        "from . import errors\n"
        "from ..players import models\n"
        "def later():\n"
        "    from apps.wallet.posting import write\n"
        "    import apps.geo.config\n"
        "    return import_string('apps.staff.middleware.Gate'), models.ForeignKey('responsible.Exclusion', None)\n"
    )
    found = {(d.app, d.where.split(" ", 1)[1]) for d in dependencies(source, root=tmp_path)}
    assert found == {
        ("core", "from apps.core import ..."),
        ("players", "from apps.players import ..."),
        ("wallet", "from apps.wallet.posting import ..."),
        ("geo", "import apps.geo.config"),
        ("staff", "import_string('apps.staff.middleware.Gate')"),
        ("responsible", "ForeignKey('responsible.Exclusion')"),
    }
