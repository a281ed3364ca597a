from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from backoffice.settings.env import read, read_database, read_networks

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_variable_is_named(monkeypatch):
    monkeypatch.delenv("PITBOSS_NOT_SET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="PITBOSS_NOT_SET: this environment variable is required"):
        read("PITBOSS_NOT_SET")


def test_a_malformed_integer_is_named(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_MAX", "ten")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_MAX: malformed value 'ten'"):
        read("DATABASE_POOL_MAX", "int")


def test_a_malformed_network_list_is_named(monkeypatch):
    monkeypatch.setenv("STAFF_ALLOWED_NETWORKS", "10.0.0.0/8, not-a-network")
    with pytest.raises(ImproperlyConfigured, match="STAFF_ALLOWED_NETWORKS: 'not-a-network'"):
        read_networks("STAFF_ALLOWED_NETWORKS")


def test_a_non_postgres_database_url_is_refused(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/pitboss")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL: expected a postgres"):
        read_database("DATABASE_URL", "postgres://x@y/z")


def test_secrets_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("PITBOSS_SECRET", raising=False)
    monkeypatch.setenv("PITBOSS_SECRET_FILE", str(secret))
    assert read("PITBOSS_SECRET") == "from-a-file"


def _start(
    env_overrides: dict[str, str], drop: tuple[str, ...] = (), command: str = "check"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"DJANGO_SETTINGS_MODULE": "backoffice.settings.base", "PITBOSS_IGNORE_DOTENV": "1", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_start_up_fails_naming_a_missing_secret_key():
    result = _start({}, drop=("SECRET_KEY",))
    assert result.returncode != 0
    assert "SECRET_KEY: this environment variable is required" in result.stderr


def test_start_up_fails_naming_a_malformed_variable():
    result = _start({"SECRET_KEY": "x" * 50, "TRUSTED_PROXY_COUNT": "two"})
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT: malformed value 'two'" in result.stderr


def test_production_requires_allowed_hosts():
    result = _start(
        {"SECRET_KEY": "x" * 50, "DJANGO_SETTINGS_MODULE": "backoffice.settings.production"}, drop=("ALLOWED_HOSTS",)
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS: this environment variable is required" in result.stderr


PRODUCTION = {
    "SECRET_KEY": "x" * 50,
    "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
    "ALLOWED_HOSTS": "backoffice.example",
    "IDENTITY_HASH_KEY": "identity-key",
    "AUDIT_HMAC_KEY": "audit-key-" + "k" * 40,
    "KYC_HASH_KEY": "kyc-hash-key-" + "h" * 40,
    "KYC_FIELD_KEYS": "X2sO1QUkM8y3U7n3R8yVd0YpD7mJm2c1k1w0fHq6JtA=",
}
METRICS_VARIABLES = ("METRICS_TOKEN", "METRICS_TOKEN_FILE", "METRICS_ALLOWED_NETWORKS")


def test_production_refuses_to_start_with_metrics_open_to_anyone():
    result = _start(PRODUCTION, drop=METRICS_VARIABLES)
    assert result.returncode != 0
    assert "METRICS_TOKEN: /metrics would be open to anyone" in result.stderr
    assert "METRICS_ALLOWED_NETWORKS" in result.stderr


@pytest.mark.parametrize(
    "metrics",
    [{"METRICS_TOKEN": "scrape-token"}, {"METRICS_ALLOWED_NETWORKS": "10.20.0.0/16"}],
    ids=["token", "networks"],
)
def test_production_starts_with_a_metrics_token_or_an_allow_list(metrics):
    result = _start({**PRODUCTION, **metrics}, drop=METRICS_VARIABLES)
    assert "METRICS_TOKEN" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr


def test_production_requires_an_audit_key_of_its_own(tmp_path):
    without_key = {k: v for k, v in PRODUCTION.items() if k != "AUDIT_HMAC_KEY"}
    key_file = tmp_path / "audit-key"
    key_file.write_text("k" * 40 + "\n")
    from_file = _start({**without_key, "METRICS_TOKEN": "t", "AUDIT_HMAC_KEY_FILE": str(key_file)}, ("AUDIT_HMAC_KEY",))
    assert from_file.returncode == 0, from_file.stderr  # a container secret
    missing = _start({**without_key, "METRICS_TOKEN": "t"}, drop=("AUDIT_HMAC_KEY", "AUDIT_HMAC_KEY_FILE"))
    assert missing.returncode != 0 and "AUDIT_HMAC_KEY: this environment variable is required" in missing.stderr
    short = _start({**PRODUCTION, "METRICS_TOKEN": "t", "AUDIT_HMAC_KEY": "too-short"})
    assert short.returncode != 0 and "AUDIT_HMAC_KEY: use at least 32 random characters" in short.stderr


def test_production_refuses_an_application_that_logs_in_as_the_owner_role():
    same = _start(
        {
            **PRODUCTION,
            "METRICS_TOKEN": "t",
            "DATABASE_URL": "postgres://pitboss_owner@db.internal:5432/pitboss",
            "MIGRATION_DATABASE_URL": "postgres://pitboss_owner@db.internal:5432/pitboss",
        }
    )
    assert same.returncode != 0
    assert "DATABASE_URL: the application connects as the owner role of MIGRATION_DATABASE_URL" in same.stderr
    apart = _start(
        {
            **PRODUCTION,
            "METRICS_TOKEN": "t",
            "DATABASE_URL": "postgres://pitboss_app@db.internal:5432/pitboss",
            "MIGRATION_DATABASE_URL": "postgres://pitboss_owner@db.internal:5432/pitboss",
        }
    )
    assert apart.returncode == 0, apart.stderr


def test_without_the_owner_url_a_production_process_cannot_migrate():
    result = _start({**PRODUCTION, "METRICS_TOKEN": "t"}, drop=("MIGRATION_DATABASE_URL",), command="migrate")
    assert result.returncode != 0
    assert "MIGRATION_DATABASE_URL: this process runs DDL" in result.stderr


@pytest.mark.parametrize("name", ["KYC_HASH_KEY", "KYC_FIELD_KEYS"])
def test_production_requires_the_kyc_keys(name):
    without = {k: v for k, v in PRODUCTION.items() if k != name}
    missing = _start({**without, "METRICS_TOKEN": "t"}, drop=(name, f"{name}_FILE"))
    assert missing.returncode != 0 and f"{name}: this environment variable is required" in missing.stderr
