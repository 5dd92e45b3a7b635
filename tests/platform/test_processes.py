"""Worker processes of ``--workers N`` runs: spawned with the parent's database settings, and a
worker that dies ends the run with a message instead of a parent waiting forever."""

from __future__ import annotations

import os

import pytest
from django.core.management.base import CommandError
from django.db import connections

from moyai.platform.management.processes import run_in_processes


def worker_view(tag: str) -> tuple[str, int, str, str]:
    """What a worker sees: its process, the database it would connect to, its settings."""
    return (
        tag,
        os.getpid(),
        str(connections["default"].settings_dict["NAME"]),
        os.environ["DJANGO_SETTINGS_MODULE"],
    )


def worker_dies(tag: str) -> None:
    os._exit(3)


def test_workers_are_separate_processes_with_the_callers_database() -> None:
    name = str(connections["default"].settings_dict["NAME"])
    seen = run_in_processes(worker_view, [("a",), ("b",)])
    assert [s[0] for s in seen] == ["a", "b"]  # results in job order
    assert os.getpid() not in {s[1] for s in seen}
    assert {s[2] for s in seen} == {name}
    assert {s[3] for s in seen} == {os.environ["DJANGO_SETTINGS_MODULE"]}


def test_a_worker_that_dies_ends_the_run_with_a_message() -> None:
    with pytest.raises(CommandError, match="異常終了"):
        run_in_processes(worker_dies, [("a",), ("b",)])


def test_workers_cannot_start_inside_a_transaction(db) -> None:
    """The test transaction is open: workers would not see its rows and would wait on its locks."""
    with pytest.raises(RuntimeError, match="inside a transaction"):
        run_in_processes(worker_view, [("a",)])


def worker_fails_or_waits(tag: str) -> str:
    if tag == "fails":
        raise ValueError("shard failed")
    import time

    time.sleep(600)
    return tag


def test_a_failing_shard_stops_the_others_instead_of_waiting_for_them() -> None:
    """One shard raises: the error reaches the caller at once, the waiting worker is stopped."""
    with pytest.raises(ValueError, match="shard failed"):
        run_in_processes(worker_fails_or_waits, [("fails",), ("waits",)])
