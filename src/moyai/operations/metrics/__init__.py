"""運用監視: Prometheus metrics of the shared deployment (requests, latency, task queues, usage).

Not a Django app: no tables. :mod:`.instruments` defines the counters, :mod:`.middleware` counts
requests by route name and 団体コード, :mod:`.collectors` reads the task queue depth and
per-tenant figures at scrape time, :mod:`.views` serves ``/metrics`` to the operator only.
"""
