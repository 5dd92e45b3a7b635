"""Structured logs: one JSON object per line, with the request's id, tenant and route.

:class:`RequestLogMiddleware` gives every request an id (the proxy's ``X-Request-ID`` when it is
well-formed, else a new one), keeps it in a context variable so that every log line written while
the request runs carries it, and writes one ``moyai.request`` line at the end: method, route
*name* (the URL pattern, never the path: ids in paths and the query strings of search screens
are personal data), status, duration and the tenant's 団体コード. :class:`JsonFormatter` writes
records as JSON; exceptions are logged as their type and stack frames, without the message
(messages may quote what a clerk typed).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
UNRESOLVED = "<unresolved>"

# Fields a log call may add with ``extra=``; anything else is dropped, so that a careless
# ``extra={"name": ...}`` cannot put personal data into the log.
ALLOWED_EXTRA = frozenset(
    {
        "request_id",
        "tenant",
        "route",
        "method",
        "status",
        "duration_ms",
        "task",
        "task_id",
        "queue",
        "count",
        "event",
        "user_id",
    }
)

# Django's loggers that put the request path into the message.
PATH_LOGGERS = frozenset({"django.request", "django.server", "django.security.csrf"})

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("moyai_request_id", default="")

request_logger = logging.getLogger("moyai.request")


def current_request_id() -> str:
    return _request_id.get()


def route_name(request: HttpRequest) -> str:
    """The matched URL pattern (``api/v1/registry/persons/<int:person_id>``), never the path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNRESOLVED
    return str(match.route) or str(match.view_name) or UNRESOLVED


def tenant_code(request: HttpRequest) -> str:
    tenant = getattr(request, "tenant", None)
    return str(tenant.code) if tenant is not None else ""


class RequestContextFilter(logging.Filter):
    """Adds the current request id to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: ts, level, logger, msg and the allowed extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name in PATH_LOGGERS:
            # "Internal Server Error: /registry/persons/123/?name=…": keep the reason only.
            message = message.split(":", 1)[0]
            request = getattr(record, "request", None)
            if request is not None and not getattr(record, "route", ""):
                record.route = route_name(request)
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": message,
        }
        for key in ALLOWED_EXTRA:
            value = getattr(record, key, None)
            if value not in (None, ""):
                data[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            data["exc_type"] = f"{exc_type.__module__}.{exc_type.__qualname__}"
            data["exc_frames"] = [
                f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb)
            ]
        return json.dumps(data, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """Request id in, ``X-Request-ID`` out, and one log line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = str(request.META.get(REQUEST_ID_HEADER, ""))
        request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        start = time.perf_counter()
        try:
            response = self.get_response(request)
        except Exception:
            self._log(request, request_id, 500, start)
            raise
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        self._log(request, request_id, response.status_code, start)
        return response

    @staticmethod
    def _log(request: HttpRequest, request_id: str, status: int, start: float) -> None:
        route = route_name(request)
        duration_ms = round((time.perf_counter() - start) * 1000, 1)
        request_logger.info(
            "%s %s %s",
            request.method,
            route,
            status,
            extra={
                "request_id": request_id,
                "method": request.method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "tenant": tenant_code(request),
            },
        )
