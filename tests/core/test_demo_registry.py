"""``seed_demo``, ``demo_access`` and ``serve`` run what the apps registered (apps.core.demo, apps.core.serve):
core names none of them. What ``make run`` prints is pinned here and in tests/staff/test_roles_and_commands.py."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.core import demo, serve
from apps.core.demo import DemoCount, DemoCredentials
from apps.players.models import Player
from apps.staff.models import StaffUser


@pytest.fixture
def registries() -> Iterator[None]:
    """Registrations a test adds are taken out again: the apps' own stay as ready() made them."""
    seeders, access, options = dict(demo._seeders), dict(demo._access), dict(serve._options)
    yield
    for registry, saved in ((demo._seeders, seeders), (demo._access, access), (serve._options, options)):
        registry.clear()
        registry.update(saved)  # type: ignore[attr-defined]


def test_it_has_what_each_app_registered_in_order():
    assert [(s.name, s.order) for s in demo.seeders()] == [
        ("staff", 10),
        ("players", 20),
        ("kyc", 40),
        ("screening", 50),
        ("compliance", 60),
        ("bonuses", 65),
        ("crm", 67),
        ("sars", 70),
        ("reports", 90),
    ]
    assert [(a.name, a.order) for a in demo.access_providers()] == [("staff", 10), ("players", 20)]
    assert [o.flag for o in serve.serve_options()] == ["--register-sandbox"]
    players = demo.seeders()[1]
    assert players.count == DemoCount("players", 3000, "top demo players up to this many (COPY)")


def test_it_runs_seeders_by_order_then_name_and_replaces_one_registered_again(registries):
    calls: list[tuple[str, int | None]] = []

    def seeder(name: str) -> demo.Seed:
        def seed(*, actor: Any, count: int | None) -> list[str]:
            calls.append((name, count))
            return [f"{name} seeded"]

        return seed

    demo._seeders.clear()
    demo.register_seeder("kyc", seeder("kyc"), order=30)
    demo.register_seeder("bonuses", seeder("bonuses"), order=30, count=DemoCount("bonuses", 5, "templates"))
    demo.register_seeder("first", seeder("first"), order=1)
    demo.register_seeder("first", seeder("first again"), order=1)  # AppConfig.ready() twice: one entry
    assert demo.seed_demo(actor=None, counts={"bonuses": 2}) == ["first again seeded", "bonuses seeded", "kyc seeded"]
    assert calls == [("first again", None), ("bonuses", 2), ("kyc", None)]
    assert demo.seed_demo(actor=None)[1] == "bonuses seeded" and calls[-2] == ("bonuses", 5)  # the default


def test_it_refuses_a_second_seeder_with_the_same_option(registries):
    with pytest.raises(ValueError, match="--players is already another seeder's"):
        demo.register_seeder("twin", lambda **_: [], order=1, count=DemoCount("players", 1, "again"))


def test_it_refuses_a_serve_option_that_is_not_a_long_option(registries):
    with pytest.raises(ValueError, match="a long option"):
        serve.register_serve_option("-x", lambda: "", help="no")


@pytest.mark.django_db
def test_seed_demo_prints_each_apps_lines_in_order(capsys):
    call_command("seed_demo", "--players", "4")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("staff member demo-")  # staff first (order 10)
    assert out[-1] == "demo data in place"
    players = out.index("players: 4 added (demo players now at least 4)")
    kyc = [n for n, line in enumerate(out) if line.startswith("kyc: ")]  # levels, then the demo documents
    assert kyc and min(kyc) > players and out[kyc[0]].startswith("kyc: 4 levels and ")
    assert Player.objects.count() == 4 and StaffUser.objects.filter(username="demo-mlro").exists()


@pytest.mark.django_db
def test_seed_demo_refuses_a_negative_count_and_production():
    with pytest.raises(CommandError, match="--players must be 0 or more"):
        call_command("seed_demo", "--players", "-1")


@pytest.mark.django_db
def test_the_demo_commands_are_refused_without_demo_tools(settings):
    settings.DEMO_TOOLS = False
    with pytest.raises(CommandError, match="DEMO_TOOLS"):
        call_command("seed_demo")
    with pytest.raises(CommandError, match="DEMO_TOOLS"):
        call_command("demo_access")
    with pytest.raises(SystemExit) as exited:
        call_command("serve", register_sandbox=True)
    assert exited.value.code == 2


@pytest.mark.django_db
def test_demo_access_prints_the_administrator_then_the_key(capsys):
    call_command("demo_access")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == lines[-1] == "=" * 78
    assert lines[1] == "Demo administrator (role Administrator) at http://127.0.0.1:8000/admin/"
    assert lines[-4] == "Demo platform API key (all scopes):"
    assert lines[-3].startswith("  curl -H 'Authorization: Api-Key ")
    assert lines[-2] == "API docs: http://127.0.0.1:8000/api/docs/"


@pytest.mark.django_db(transaction=True)
def test_demo_access_changes_nothing_when_one_provider_fails(registries, role_groups):
    first = demo.demo_access(actor=None)

    def broken(*, actor: Any) -> DemoCredentials:
        raise RuntimeError("the vendor sandbox is down")

    demo.register_access("zz-broken", broken, order=99)
    events = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        demo.demo_access(actor=None)
    assert StaffUser.objects.get(username="demo-admin").check_password(first.values["password"])  # kept
    assert AuditEvent.objects.count() == events  # no revoked key, no password reset


@pytest.fixture
def environment() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_the_register_sandbox_points_unconfigured_registers_at_itself(environment, settings):
    from apps.responsible import demo as responsible_demo

    settings.SELF_EXCLUSION_REGISTERS = {
        "gamstop": {"url": "", "key": ""},
        "spelpaus": {"url": "https://register.invalid", "key": "real"},
    }
    os.environ["REGISTER_SANDBOX_EXCLUDED"] = "Doe"
    started = len(responsible_demo._running)
    (option,) = serve.serve_options()
    line = option.start()
    sandbox = responsible_demo._running[started]
    try:
        assert line == f"national registers: sandbox at {sandbox.url} (demo only)"
        assert os.environ["REGISTER_GAMSTOP_URL"] == sandbox.url and os.environ["REGISTER_GAMSTOP_KEY"] == "sandbox"
        assert "REGISTER_SPELPAUS_URL" not in os.environ  # a configured register is left alone
        assert sandbox.excluded == {"Doe"}
        request = urllib.request.Request(f"{sandbox.url}/v2", data=b"lastName=Doe", method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:  # loopback
            assert response.headers["X-Exclusion"] == "Y"  # GAMSTOP's answer for an excluded last name
    finally:
        sandbox.stop()
        responsible_demo._running.remove(sandbox)
