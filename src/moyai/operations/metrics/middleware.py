"""Counts every request by route name, and by 団体コード for per-tenant usage."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from moyai.operations.metrics.instruments import LATENCY, REQUESTS, TENANT_REQUESTS, TENANT_SECONDS
from moyai.platform.logging import route_name, tenant_code

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            seconds = time.perf_counter() - start
            route = route_name(request)
            method = str(request.method) if request.method in METHODS else "other"
            REQUESTS.labels(route, method, str(status)).inc()
            LATENCY.labels(route, method).observe(seconds)
            code = tenant_code(request)
            if code:
                TENANT_REQUESTS.labels(code).inc()
                TENANT_SECONDS.labels(code).inc(seconds)
