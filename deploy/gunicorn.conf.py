"""gunicorn settings for moyai (``gunicorn -c deploy/gunicorn.conf.py moyai.web.wsgi``).

Everything is read from the environment (see ``deploy/moyai.env.example``):

* ``MOYAI_BIND`` (default ``127.0.0.1:8000``): the reverse proxy forwards here;
* ``MOYAI_WORKERS`` (default ``2 × cores + 1``), ``MOYAI_THREADS`` (default 1);
* ``MOYAI_WORKER_TIMEOUT`` (default 120 s: a 住民票 PDF takes well under a second, an upload of a
  legacy file longer);
* ``PROMETHEUS_MULTIPROC_DIR`` (default ``$MOYAI_DATA_DIR/prometheus``, else
  ``/run/moyai/prometheus``):
  emptied when the server starts, so that counters of a previous run do not add up.

No access log: ``moyai.platform.logging.RequestLogMiddleware`` writes one JSON line per request
with the route name instead of the path (paths and query strings may hold personal data).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

_data = Path(os.environ.get("MOYAI_DATA_DIR", "/run/moyai"))
_metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_data / "prometheus")))

wsgi_app = "moyai.web.wsgi:application"
bind = os.environ.get("MOYAI_BIND", "127.0.0.1:8000").split(",")
workers = int(os.environ.get("MOYAI_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("MOYAI_THREADS", "1"))
timeout = int(os.environ.get("MOYAI_WORKER_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("MOYAI_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# The proxy is the only client; it sets X-Forwarded-For / X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("MOYAI_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("MOYAI_LOG_LEVEL", "info").lower()
proc_name = "moyai"
# gunicorn's runtime control socket is not used (systemd manages the server); left on, several
# servers of one user would share its default path in the home directory.
control_socket_disable = True
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "moyai.platform.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}


def on_starting(server: Any) -> None:
    """Start with an empty metrics directory (files of dead processes would be summed again)."""
    if _metrics_dir.exists():
        shutil.rmtree(_metrics_dir)
    _metrics_dir.mkdir(parents=True, mode=0o700)


def child_exit(server: Any, worker: Any) -> None:
    """A worker's live gauges go with it; its counters stay summed (prometheus multiprocess)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
