"""Run the shards of one batch (``--workers N``) in separate worker processes.

Workers are *spawned* — each a fresh interpreter that sets Django up itself — not forked. A fork
copies whatever the parent holds at that instant: open database sockets, and locks held by other
threads (a web server thread, a logging handler, an import in progress). A child that inherits a
held lock waits for it forever, and so does the parent waiting for the child. A spawned worker
inherits nothing but its arguments; the parent passes the database settings it actually uses (a
test database, an assumed role), so both sides see the same data.

A worker that dies abruptly (killed, out of memory) ends the run with a message instead of a
parent waiting forever: ``ProcessPoolExecutor`` reports the pool as broken.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from django.core.management.base import CommandError

T = TypeVar("T")


def run_in_processes(function: Callable[..., T], jobs: Sequence[tuple[Any, ...]]) -> list[T]:
    """``function(*job)`` for every job, one spawned process per job, results in job order.

    ``function`` must be importable by name (a module-level function), and jobs and results
    picklable. The workers see only what the caller has committed, so it must not be inside a
    transaction (its locks would hold the workers up)."""
    from django.conf import settings
    from django.db import connections

    if any(connections[alias].in_atomic_block for alias in connections):
        raise RuntimeError("run_in_processes inside a transaction: the workers cannot see it")
    databases = {alias: dict(connections[alias].settings_dict) for alias in connections}
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=len(jobs),
        mp_context=context,
        initializer=_worker_setup,
        initargs=(settings_module, databases),
    )
    try:
        futures = [pool.submit(function, *job) for job in jobs]
        return [future.result() for future in futures]
    except BrokenProcessPool as exc:
        raise CommandError(
            "作業プロセスが異常終了しました（メモリ不足や強制終了）。"
            "同じジョブキーで --resume すると続きから処理します"
        ) from exc
    except BaseException:
        # Interrupted (Ctrl-C, a time limit) or one shard failed: stop the other workers
        # instead of waiting for them; each shard's finished chunks are committed and a
        # --resume continues from there. (The executor has no public way to do this before
        # Python 3.14's terminate_workers().)
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_setup(settings_module: str, databases: dict[str, dict[str, Any]]) -> None:
    """In the spawned worker: Django with the parent's settings and database connections."""
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    from django.db import connections

    for alias, settings_dict in databases.items():
        connections[alias].settings_dict.update(settings_dict)
