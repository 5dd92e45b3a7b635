"""Production mode refuses insecure defaults with one clear message listing every problem."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys

KEY = "k1:" + base64.b64encode(b"\x01" * 32).decode()


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MOYAI_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", "import moyai.platform.settings as s; print(s.ENV, s.DEBUG)"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "moyai.platform.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


GOOD = {
    "MOYAI_ENV": "production",
    "MOYAI_SECRET_KEY": secrets.token_urlsafe(50),
    "MOYAI_ALLOWED_HOSTS": "moyai.example.lg.jp",
    "MOYAI_DATABASE_URL": "postgres://moyai@db.internal:5432/moyai",
    "MOYAI_PII_KEYS": KEY,
    "MOYAI_DOCUMENT_KEY": KEY.replace("k1", "d1"),
    "MOYAI_PII_INDEX_KEY": KEY.removeprefix("k1:"),
    "MOYAI_PUBLIC_URL": "https://moyai.example.lg.jp",
}


def test_complete_production_settings_start() -> None:
    done = start(GOOD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "production False"


def test_missing_secret_key_is_named() -> None:
    done = start({k: v for k, v in GOOD.items() if k != "MOYAI_SECRET_KEY"})
    assert done.returncode != 0
    assert "moyai refuses to start in production" in done.stderr
    assert "MOYAI_SECRET_KEY must be set" in done.stderr
    assert "MOYAI_ALLOWED_HOSTS" not in done.stderr  # only what is wrong is listed


def test_every_insecure_default_is_listed() -> None:
    done = start(
        {
            "MOYAI_ENV": "production",
            "MOYAI_SECRET_KEY": "django-insecure-short",
            "MOYAI_DEBUG": "1",
            "MOYAI_METRICS_TOKEN": "short",
        }
    )
    assert done.returncode != 0
    assert "moyai refuses to start in production with insecure settings" in done.stderr
    for name in (
        "MOYAI_DEBUG=1",
        "MOYAI_SECRET_KEY は 50 文字以上",
        "MOYAI_ALLOWED_HOSTS",
        "MOYAI_DATABASE_URL に PostgreSQL",
        "MOYAI_PII_KEYS",
        "MOYAI_PII_INDEX_KEY",
        "MOYAI_DOCUMENT_KEY",
        "MOYAI_PUBLIC_URL",
        "MOYAI_METRICS_TOKEN",
    ):
        assert name in done.stderr, name


def test_task_backend_is_chosen_from_the_environment() -> None:
    code = (
        "import moyai.platform.settings as s; "
        "print(s.TASKS['default']['BACKEND'], s.RQ_QUEUES['default']['URL'], "
        "'django_rq' in s.INSTALLED_APPS)"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MOYAI_", "DJANGO_"))}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            **GOOD,
            "MOYAI_TASK_BACKEND": "rq",
            "MOYAI_REDIS_URL": "redis://redis.internal:6379/2",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "moyai.platform.broker.OnCommitRQBackend",
        "redis://redis.internal:6379/2",
        "True",
    ]
