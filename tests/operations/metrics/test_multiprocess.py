"""Several gunicorn workers: /metrics adds up every worker's counters, whichever one answers."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "m" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
        return r.status, r.read().decode()


def healthz_total(text: str) -> float:
    pattern = r'^moyai_http_requests_total\{method="GET",route="healthz",status="200"\} (\S+)$'
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_counters_of_all_workers_add_up(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOYAI_", "PROMETHEUS_"))}
    env.update(
        MOYAI_ENV="test",
        MOYAI_DATA_DIR=str(tmp_path),
        MOYAI_BIND=f"127.0.0.1:{port}",
        MOYAI_WORKERS="3",
        MOYAI_METRICS_TOKEN=TOKEN,
        MOYAI_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [str(gunicorn), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(120):
            try:
                assert get(f"{base}/healthz")[0] == 200
                break
            except OSError:
                time.sleep(0.25)
        else:
            raise AssertionError((tmp_path / "gunicorn.log").read_text()[-2000:])

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(lambda _: get(f"{base}/healthz")[0], range(60)))
        assert statuses == [200] * 60

        pids = {p.name for p in (tmp_path / "prometheus").glob("counter_*.db")}
        assert len(pids) >= 2, f"expected several workers to have counted: {pids}"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        totals = {healthz_total(get(f"{base}/metrics", auth)[1]) for _ in range(6)}
        assert totals == {61.0}  # the readiness probe and the 60 requests, from every worker
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    lines = (tmp_path / "gunicorn.log").read_text().splitlines()
    requests = [json.loads(line) for line in lines if '"moyai.request"' in line]
    assert len([r for r in requests if r["route"] == "healthz"]) == 61
    assert all(len(r["request_id"]) == 32 for r in requests)
