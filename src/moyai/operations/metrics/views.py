"""``/metrics``: Prometheus text format, for the operator's scraper only.

Access needs ``Authorization: Bearer <MOYAI_METRICS_TOKEN>`` or a client address inside
``MOYAI_METRICS_ALLOW``; anybody else gets 404, as if there were nothing here. The reverse proxy
does not forward ``/metrics`` (deploy/nginx.conf): the scraper reaches each application server
directly on the internal network.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from moyai.operations.metrics.collectors import ScrapeCollector


def allowed(request: HttpRequest) -> bool:
    token = str(settings.METRICS_TOKEN)
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    if (
        token
        and header.startswith("Bearer ")
        and hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    ):
        return True
    try:
        address = ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return False
    for entry in settings.METRICS_ALLOW:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def exposition() -> bytes:
    """All workers' counters (multiprocess mode) or this process's, then the scrape-time figures."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(ScrapeCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(workers)  # type: ignore[no-untyped-call]
        counted = generate_latest(workers)
    else:
        counted = generate_latest(REGISTRY)
    return counted + generate_latest(scrape)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        raise Http404
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
