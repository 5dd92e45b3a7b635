"""Loaded by pytest before pytest-django (``-p moyai.testing.pytest_plugin``): chooses the test
profile and database before Django's settings are imported.

``MOYAI_TEST_DB=postgres`` runs the suite on PostgreSQL (``MOYAI_TEST_PG_URL``, default the local
server with trust auth); anything else runs it on SQLite.
"""

from __future__ import annotations

import os
import tempfile

os.environ["MOYAI_ENV"] = "test"
os.environ.setdefault("MOYAI_DATA_DIR", tempfile.mkdtemp(prefix="moyai-test-"))
if os.environ.get("MOYAI_TEST_DB") == "postgres":
    os.environ["MOYAI_DATABASE_URL"] = os.environ.get(
        "MOYAI_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/moyai"
    )
    # One test database per run, so that runs on one server do not collide.
    os.environ.setdefault("MOYAI_TEST_DB_NAME", f"test_moyai_{os.getpid()}")
else:
    os.environ.pop("MOYAI_DATABASE_URL", None)
