from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from apps.api.models import ApiClient
from apps.api.scopes import ALL_SCOPES
from apps.api.services import api_client_create
from apps.audit.services import SystemActor
from apps.staff import roles
from apps.staff.models import StaffUser
from tests.factories import StaffUserFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The test database is built as the owner role; from here on the suite acts as the application's role
    (tests/dbroles.py): every test runs with exactly the privileges the application has in production."""
    from django.db import connections
    from django.db.backends.postgresql.operations import DatabaseOperations
    from django.db.backends.signals import connection_created

    from tests import dbroles

    original_flush = DatabaseOperations.execute_sql_flush
    DatabaseOperations.execute_sql_flush = dbroles.flush_as_owner(original_flush)  # type: ignore[method-assign]
    connection_created.connect(dbroles.act_as_app_role, dispatch_uid="pitboss-tests-app-role")
    with django_db_blocker.unblock():
        connections.close_all()  # the next connection handed out acts as the application
    yield
    connection_created.disconnect(dispatch_uid="pitboss-tests-app-role")
    DatabaseOperations.execute_sql_flush = original_flush  # type: ignore[method-assign]


@pytest.fixture
def owner_role(django_db_blocker: Any) -> Iterator[None]:
    """For tests of what runs on the owner's connection in production (DDL, the ledger's partition switch) or
    of tampering behind the triggers: act as the owner for the rest of the test. Request it after ``db``."""
    from tests.dbroles import as_owner

    with as_owner():
        yield


@pytest.fixture(scope="session")
def register_sandbox() -> Iterator[Any]:
    """The national registers' sandbox on loopback (apps.responsible.sandbox), one per test worker."""
    from apps.responsible.sandbox import Sandbox

    sandbox = Sandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(autouse=True)
def registers(register_sandbox: Any, settings: Any) -> Any:
    """Every register points at the sandbox, which answers "not registered" unless a test says otherwise;
    no retries wait long."""
    register_sandbox.reset()
    settings.SELF_EXCLUSION_REGISTERS = {
        code: {"url": register_sandbox.url, "key": f"{code}-test-key"}
        for code in ("gamstop", "spelpaus", "rofus", "oasis", "cruks", "igo")
    }
    settings.REGISTER_BACKOFF_SECONDS = 0.01
    settings.REGISTER_TIMEOUT_SECONDS = 0.5
    return register_sandbox


@pytest.fixture(autouse=True)
def _audit_checkpoints(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test starts without audit checkpoints (a stale one would describe another test's chain). The folder
    is created only if the test writes one."""
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path_factory.getbasetemp() / "audit-checkpoints" / uuid.uuid4().hex)


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Each test starts with this worker's cache keys (throttles, lockouts, API keys) gone.

    ``delete_pattern`` honours the per-worker key prefix; ``cache.clear()`` would flush every worker's keys.
    """
    from apps.api import authentication, throttling

    cache.delete_pattern("*")
    authentication._local.clear()
    throttling.reset_local_counts()
    yield
    cache.delete_pattern("*")
    authentication._local.clear()


@pytest.fixture
def geo_rules(transactional_db: Any) -> None:
    """For transactional tests: the rule packs the migrations seeded, put back after an earlier flush."""
    import importlib

    from django.apps import apps as django_apps

    importlib.import_module("apps.geo.migrations.0002_seed_rule_packs").seed(django_apps, None)
    importlib.import_module("apps.geo.migrations.0004_rule_pack_protection").seed_protection(django_apps, None)
    importlib.import_module("apps.geo.migrations.0005_jurisdiction_time_zone").seed_time_zones(django_apps, None)
    importlib.import_module("apps.geo.migrations.0006_kyc_rules").seed_kyc_rules(django_apps, None)
    importlib.import_module("apps.geo.migrations.0007_bonus_rules").seed_bonus_rules(django_apps, None)


@pytest.fixture
def role_groups(transactional_db: Any) -> None:
    """For transactional tests: an earlier one flushed every table, including the roles the migrations made."""
    from django.apps import apps as django_apps

    # every *_PERMISSIONS mapping of every apps.<app>.roles module: a new one can never be forgotten here
    defined = roles.defined_role_permissions()
    roles.grant_role_permissions(django_apps, {role: tuple(sorted(perms)) for role, perms in defined.items()})


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift):06d}"


def _persona(*role_names: str) -> Callable[..., StaffUser]:
    def make(db: Any) -> StaffUser:
        return StaffUserFactory(roles=list(role_names))

    return make


admin_user = pytest.fixture(_persona(roles.ADMINISTRATOR), name="admin_user")
kyc_officer = pytest.fixture(_persona(roles.KYC_OFFICER), name="kyc_officer")
aml_analyst = pytest.fixture(_persona(roles.AML_ANALYST), name="aml_analyst")
mlro = pytest.fixture(_persona(roles.MLRO), name="mlro")
support_agent = pytest.fixture(_persona(roles.SUPPORT_AGENT), name="support_agent")
crm_manager = pytest.fixture(_persona(roles.CRM_MANAGER), name="crm_manager")
finance_officer = pytest.fixture(_persona(roles.FINANCE_OFFICER), name="finance_officer")
outsider = pytest.fixture(_persona(), name="outsider")  # staff, no role


def verified_client(user: StaffUser) -> Client:
    """A browser session that has passed password and OTP (without spending a TOTP code)."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def staff_client() -> Callable[[StaffUser], Client]:
    return verified_client


@dataclass
class PlatformClient:
    model: ApiClient
    key: str

    def api(self, **headers: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {self.key}", **headers)
        return client


def make_platform_client(**kwargs: Any) -> PlatformClient:
    kwargs.setdefault("name", "Test platform")
    kwargs.setdefault("scopes", ALL_SCOPES)
    model, key = api_client_create(actor=SystemActor("tests"), **kwargs)
    return PlatformClient(model=model, key=key)


@pytest.fixture
def platform_client(db: Any) -> PlatformClient:
    return make_platform_client()


@pytest.fixture
def player(db: Any) -> Any:
    from tests.factories import PlayerFactory

    return PlayerFactory()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the API contract test's figures (tests/api/test_contract.py: the share of operations that reached a
    2xx) at the end of every run. Here, not in tests/api/: under xdist only the root conftest reaches the
    controller, which receives the figures as a user property of the worker's report."""
    for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed"):
        for name, value in getattr(report, "user_properties", ()):
            if name == "contract_summary":
                terminalreporter.write_line(value)
