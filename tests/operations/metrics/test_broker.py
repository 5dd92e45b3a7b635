"""The RQ broker backend: a @tenant_task goes through Redis after commit and runs for its tenant.

Uses Redis at MOYAI_TEST_REDIS_URL when given; otherwise starts a private ``redis-server`` (the
Debian package) on a free loopback port for the session. Skipped when neither is possible, unless
MOYAI_REQUIRE_REDIS=1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django_tasks import task_backends
from django_tasks.base import TaskResultStatus

from moyai.platform.audit import current_actor
from moyai.platform.jobs import tenant_task
from moyai.platform.models import MunicipalityProfile
from moyai.platform.tenancy import current_tenant, tenant_context

QUEUE = "default"


def _answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> Iterator[str]:
    given = os.environ.get("MOYAI_TEST_REDIS_URL")
    server = shutil.which("redis-server")
    if given or server is None:
        url = given or "redis://127.0.0.1:6379/15"
        if not _answers(url):
            if os.environ.get("MOYAI_REQUIRE_REDIS") == "1":
                raise RuntimeError(f"no Redis at {url} and no redis-server to start")
            pytest.skip(f"no Redis at {url}")
        yield url
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            if _answers(url):
                break
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@tenant_task
def profile_title(municipality):
    """A tenant task that reads a tenant table: what the worker sees of its tenant."""
    with tenant_context(municipality):
        profile = MunicipalityProfile.objects.first()
        return [
            current_tenant().code,
            current_actor().municipality_code,
            profile.mayor_title if profile else "",
        ]


@pytest.fixture
def rq_backend(redis_url):
    import django_rq

    with override_settings(
        TASK_BACKEND="rq",
        TASK_QUEUES=[QUEUE],
        TASKS={
            "default": {"BACKEND": "moyai.platform.broker.OnCommitRQBackend", "QUEUES": [QUEUE]}
        },
        RQ_QUEUES={QUEUE: {"URL": redis_url}},
    ):
        queue = django_rq.get_queue(QUEUE)
        queue.empty()
        yield queue
        queue.empty()


def run_worker(queue) -> None:
    from django_tasks_rq import Job
    from rq import SimpleWorker

    worker = SimpleWorker([queue], connection=queue.connection, job_class=Job)
    assert worker.work(burst=True)


@pytest.mark.django_db
def test_tenant_task_runs_through_redis_for_its_tenant(
    rq_backend, town_a, town_b, in_town, django_capture_on_commit_callbacks
) -> None:
    with in_town(town_a):
        MunicipalityProfile.objects.update_or_create(defaults={"mayor_title": "葉山町長"})
    with in_town(town_b):
        MunicipalityProfile.objects.update_or_create(defaults={"mayor_title": "寒川町長"})
    assert type(task_backends["default"]).__name__ == "OnCommitRQBackend"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        result = profile_title.enqueue(town_a.code)
        assert rq_backend.count == 0  # not before the commit
    assert rq_backend.count == 1
    scraper = Client(REMOTE_ADDR="127.0.0.1")
    with override_settings(METRICS_ALLOW=["127.0.0.1"], METRICS_TOKEN=""):
        text = scraper.get("/metrics").content.decode()
    assert 'moyai_task_queue_depth{backend="rq",queue="default",status="ready"} 1.0' in text

    run_worker(rq_backend)
    done = task_backends["default"].get_result(result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == ["143014", "143014", "葉山町長"]
    assert rq_backend.count == 0


@pytest.mark.django_db
def test_rolled_back_enqueue_never_reaches_redis(
    rq_backend, town_a, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                profile_title.enqueue(town_a.code)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == [] and rq_backend.count == 0
