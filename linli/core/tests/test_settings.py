"""The production profile: no default secret, and Django's deployment checklist passes."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from linli.settings import database_from_url

ROOT = Path(__file__).resolve().parents[3]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_") and k != "DATABASE_URL"}
    clean.update(env)
    return subprocess.run(  # noqa: S603 - fixed interpreter and arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def production_env(**extra: str) -> dict[str, str]:
    env = {
        "LINLI_ENV": "production",
        "LINLI_SECRET_KEY": secrets.token_urlsafe(64),
        "LINLI_ALLOWED_HOSTS": "linli.example.org",
        "LINLI_DATA_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "LINLI_DATA_KEY_ID": "k1",
        "LINLI_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        "LINLI_AUDIT_KEY": "a1:" + base64.b64encode(os.urandom(32)).decode(),
    }
    env.update(extra)
    return env


@pytest.mark.slow
def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = production_env()
    del env["LINLI_SECRET_KEY"]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "LINLI_SECRET_KEY must be set in production" in result.stderr


@pytest.mark.slow
def test_production_refuses_a_short_secret_key() -> None:
    result = _manage("check", env=production_env(LINLI_SECRET_KEY="short"))
    assert result.returncode != 0
    assert "too short" in result.stderr


@pytest.mark.slow
def test_production_profile_passes_the_deployment_checklist() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_database_url_is_parsed_into_postgresql_settings() -> None:
    db = database_from_url("postgres://app:s%40cret@db.internal:6432/linli?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "linli",
        "app",
        "s@cret",
        "db.internal",
        "6432",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_database_url_statement_options_are_typed_for_psycopg() -> None:
    from django.core.exceptions import ImproperlyConfigured

    db = database_from_url("postgres://app@db/linli?server_side_binding=true&prepare_threshold=2")
    assert db["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 2}
    assert database_from_url("postgres://db/linli?server_side_binding=0")["OPTIONS"] == {
        "server_side_binding": False
    }
    with pytest.raises(ImproperlyConfigured, match="server_side_binding"):
        database_from_url("postgres://db/linli?server_side_binding=yes-please")
    with pytest.raises(ImproperlyConfigured, match="prepare_threshold"):
        database_from_url("postgres://db/linli?prepare_threshold=often")


def test_database_url_with_an_unsupported_scheme_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="not supported"):
        database_from_url("mysql://root@localhost/linli")


def test_database_is_configured_for_concurrency_and_locale_is_chinese() -> None:
    from django.conf import settings as dj

    db = dj.DATABASES["default"]
    if db["ENGINE"] == "linli.core.sqlite":
        # The embedded default: WAL + BEGIN IMMEDIATE so writers queue instead of failing mid-transaction.
        assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
        assert "busy_timeout" in db["OPTIONS"]["init_command"]
    else:
        assert db["ENGINE"] == "django.db.backends.postgresql"
        assert db["CONN_HEALTH_CHECKS"] is True
    assert dj.LANGUAGE_CODE == "zh-hans"
    assert dj.TIME_ZONE == "Asia/Shanghai"
    assert dj.USE_TZ is True
