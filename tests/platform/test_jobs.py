import pytest

from moyai.platform.jobs import run_chunked
from moyai.platform.models import JobRun, OutboxEvent
from moyai.platform.outbox import emit
from moyai.platform.tenancy import tenant_context


class Crash(BaseException):
    pass


def test_a_killed_job_resumes_without_doing_anything_twice(town_a) -> None:
    calls: list[tuple[int, int]] = []

    def process(start: int, end: int) -> None:
        if start == 40 and calls[-1:] != [(-1, -1)]:
            calls.append((-1, -1))
            emit(type="job.item", payload={"range": [start, end]})  # rolled back with the crash
            raise Crash
        calls.append((start, end))
        for i in range(start, end):
            emit(type="job.item", payload={"i": i})

    progress: list[tuple[int, int]] = []
    with pytest.raises(Crash):
        run_chunked(
            municipality=town_a,
            key="demo-job",
            total=95,
            chunk_size=20,
            process=process,
            progress=lambda d, t: progress.append((d, t)),
        )
    with tenant_context(town_a):
        assert JobRun.objects.get(key="demo-job").done == 40
        assert OutboxEvent.objects.count() == 40

    job = run_chunked(
        municipality=town_a,
        key="demo-job",
        total=95,
        chunk_size=20,
        process=process,
        progress=lambda d, t: progress.append((d, t)),
    )
    assert job.finished_at is not None and job.done == 95
    with tenant_context(town_a):
        items = sorted(e.payload["i"] for e in OutboxEvent.objects.all())
    assert items == list(range(95))
    assert [c for c in calls if c != (-1, -1)] == [(0, 20), (20, 40), (40, 60), (60, 80), (80, 95)]
    assert progress[-1] == (95, 95)

    # A finished job is not run again.
    run_chunked(municipality=town_a, key="demo-job", total=95, chunk_size=20, process=process)
    assert len([c for c in calls if c != (-1, -1)]) == 5


def test_tenant_task_runs_for_the_named_municipality(town_a) -> None:
    from moyai.platform.tasks import dispatch_events

    with tenant_context(town_a):
        emit(type="nothing.listens")
    assert dispatch_events.call(town_a.code) == 0
