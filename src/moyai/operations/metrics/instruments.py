"""The process-level instruments, shared by every gunicorn worker in multiprocess mode.

``prometheus_client`` chooses its value store when it is first imported: with the environment
variable ``PROMETHEUS_MULTIPROC_DIR`` set (``deploy/gunicorn.conf.py`` does it before the
application is loaded), each worker writes its counters to memory-mapped files in that directory
and ``/metrics`` adds them up, whichever worker answers the scrape.

Labels are bounded: the route is the URL *pattern* (never the path, whose ids would leak and
multiply the series), the municipality is the 6-digit 団体コード, never a person or a user.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "moyai_http_requests",
    "HTTP requests by route name, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "moyai_http_request_duration_seconds",
    "HTTP request duration by route name",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
TENANT_REQUESTS = Counter(
    "moyai_tenant_requests",
    "Requests made for each municipality (団体コード), for usage and 割り勘",
    ["municipality"],
)
TENANT_SECONDS = Counter(
    "moyai_tenant_request_seconds",
    "Server time spent on each municipality's requests (seconds)",
    ["municipality"],
)
