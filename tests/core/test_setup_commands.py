"""The commands `make run` relies on before Django can even reach its database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings.test", "PITBOSS_IGNORE_DOTENV": "1"}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def test_check_services_passes_when_both_answer():
    result = _manage("check_services")
    assert result.returncode == 0, result.stderr
    assert "reachable" in result.stdout


def test_check_services_names_an_unreachable_redis_and_how_to_point_at_one():
    result = _manage("check_services", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "Redis is not reachable at redis://127.0.0.1:1/0" in result.stderr
    assert "REDIS_URL=redis://HOST:6379/0" in result.stderr
    assert "PostgreSQL" not in result.stderr


def test_check_services_names_an_unreachable_postgres():
    result = _manage("check_services", DATABASE_URL="postgres://postgres@127.0.0.1:1/pitboss")
    assert result.returncode == 1
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in result.stderr
    assert "DATABASE_URL=postgres://" in result.stderr


def test_ensure_database_creates_a_missing_database_once():
    name = f"pitboss_setup_{uuid.uuid4().hex[:10]}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        first = _manage("ensure_database", DATABASE_URL=url)
        assert first.returncode == 0 and "created" in first.stdout, first.stderr
        second = _manage("ensure_database", DATABASE_URL=url)
        assert second.returncode == 0 and "exists" in second.stdout
    finally:
        with psycopg.connect("dbname=postgres host=127.0.0.1 user=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
