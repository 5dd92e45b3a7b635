"""The broker backend for ``django.tasks``: RQ on Redis, for task workers on several machines.

``MOYAI_TASK_BACKEND=rq`` selects it (settings.py). It is django-tasks-rq's backend with one
change: a task enqueued inside a transaction reaches Redis only when that transaction commits,
as with the database backend, where the task row commits with the data. Without it a worker on
another machine could start the task before the request's writes are visible, or run a task
whose request was rolled back. Workers: ``moyai rqworker --job-class django_tasks_rq.Job``.
"""

from __future__ import annotations

from typing import Any

import django_rq
from django.db import transaction
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, RQBackend, failed_callback, success_callback
from rq import Callback
from rq.job import JobStatus


class OnCommitRQBackend(RQBackend):
    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any]:
        self.validate_task(task)
        result: TaskResult[Any] = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path,
            args=args,
            kwargs=kwargs,
            job_id=result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback),
            on_success=Callback(success_callback),
            meta={"backend_name": self.alias},
        )

        def send() -> None:
            if task.run_after is None:
                queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
            else:
                queue.schedule_job(job, task.run_after)
            task_enqueued.send(type(self), task_result=result)

        transaction.on_commit(send, robust=False)
        return result
