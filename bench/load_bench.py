"""OLTP load test of a 窓口 mix against moyai in production mode on PostgreSQL.

::

    .venv/bin/python bench/load_bench.py --persons 100000 --workers 4 --users 8 --duration 60

What it does, in one run:

1. creates the database ``moyai_bench_load`` afresh (drops it first; ``--reuse`` keeps a loaded
   one), migrates it as the owner, creates 葉山町 (143014) and loads ``--persons`` residents
   with ``bulk_population`` (the loaders of bench/registry_bench.py), then ``VACUUM (ANALYZE)``;
2. creates a staff member with the 住民記録 role and an API token (the 窓口 mix is driven
   through the API: one call is one transaction, and screens would add only template time);
3. starts gunicorn with ``deploy/gunicorn.conf.py`` (``--workers`` processes) on loopback in
   production mode: ``MOYAI_ENV=production``, secrets from the environment, JSON logs, the
   application role under row-level security (``MOYAI_DB_ASSUME_ROLE=1``), metrics in
   multiprocess mode;
4. runs locust headless (bench/locustfile.py) with ``--users`` clients and no think time:
   a warm-up (unrecorded), then ``/healthz`` alone for ``--duration`` seconds (the ceiling of
   this server for a request that does nothing but ``SELECT 1``), then the 窓口 mix (search 40,
   view 30, 転居 15, 住民票の写し 15) for ``--duration`` seconds, then the same mix with one
   client for half as long (each kind's latency without queueing);
5. scrapes ``/metrics`` and checks that the request counters of all workers add up to what the
   clients sent.

The server keeps its database connections (``--conn-max-age``, default 60 s, as
docs/operations.md recommends) and does not recycle workers during the run. Each phase also
records the CPU seconds spent by the gunicorn workers and by the PostgreSQL processes of the
benchmark database: CPU per transaction does not depend on what else the shared machine runs,
and ``tps_per_2_dedicated_cores`` = 2 / (CPU seconds per transaction) is what two cores given to
nothing else would carry (the load generator's own CPU is not counted).

Results: one JSON object per phase on stdout (transactions per second, p50/p95/p99 per kind in
ms, errors), then a summary object with the comparison to the seed's 2,142 transactions in 5
minutes (7.14 per second: 8 application-server cores and 4 database cores) and to ``/healthz``.
Client and server share this machine's cores; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import registry_bench as rb

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/moyai_bench_load"
SEED_TRANSACTIONS = 2142
SEED_SECONDS = 300
STAFF = "bench-madoguchi"
KINDS = ("search", "view", "movement", "certificate")
KEPT_KEYS = ("MOYAI_PII_KEYS", "MOYAI_PII_INDEX_KEY", "MOYAI_DOCUMENT_KEY", "MOYAI_SECRET_KEY")
log = rb.log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_env(
    pg_url: str, data_dir: Path, port: int, workers: int, conn_max_age: int
) -> dict[str, str]:
    """The server's environment: production, every secret given, nothing insecure."""
    key = lambda: base64.b64encode(os.urandom(32)).decode()  # noqa: E731
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOYAI_", "DJANGO_"))}
    env.update(
        {
            "MOYAI_ENV": "production",
            "MOYAI_SECRET_KEY": secrets.token_urlsafe(50),
            "MOYAI_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MOYAI_PUBLIC_URL": "https://moyai.example.lg.jp",
            "MOYAI_DATABASE_URL": pg_url,
            "MOYAI_DB_ASSUME_ROLE": "1",
            "MOYAI_PII_KEYS": f"k1:{key()}",
            "MOYAI_DOCUMENT_KEY": f"d1:{key()}",
            "MOYAI_PII_INDEX_KEY": key(),
            "MOYAI_METRICS_TOKEN": secrets.token_urlsafe(32),
            "MOYAI_DATA_DIR": str(data_dir),
            "MOYAI_BIND": f"127.0.0.1:{port}",
            "MOYAI_WORKERS": str(workers),
            "MOYAI_DB_CONN_MAX_AGE": str(conn_max_age),
            # No worker recycling during the run, so that the CPU accounting sees every worker.
            "MOYAI_MAX_REQUESTS": "0",
            "PROMETHEUS_MULTIPROC_DIR": str(data_dir / "prometheus"),
            "DJANGO_SETTINGS_MODULE": "moyai.platform.settings",
        }
    )
    return env


def prepare(args: argparse.Namespace, server_env: dict[str, str]) -> dict[str, Any]:
    """As the owner: migrate, load, the staff member and token, and the inputs of the mix."""
    # The loader encrypts with the same keys as the server decrypts.
    for name in KEPT_KEYS:
        os.environ[name] = server_env[name]
    url, _drop = rb.prepare_database("postgres", args.pg_url, None, args.reuse)
    rb.configure_django(url)
    bench = rb.Bench("postgres")
    town = rb.setup(args, bench)

    from django.utils import timezone

    from moyai.platform import services as platform_services
    from moyai.platform.audit import Actor, acting_as
    from moyai.platform.models import Role, StaffUser
    from moyai.registry.synthetic import Generator

    rng = random.Random(args.seed)
    with acting_as(Actor(username="cli:load_bench", channel="cli")):
        user = StaffUser.objects.filter(username=STAFF).first()
        if user is None:
            user = platform_services.staff_create(
                municipality=town,
                username=STAFF,
                password=secrets.token_urlsafe(24),
                roles=[Role.REGISTRY],
                display_name="窓口 負荷試験",
            ).user
        token = platform_services.api_token_create(user=user, name="load_bench", days=1).plaintext

    # Inputs: far more than one run uses, each drawn from the loaded rows.
    per_kind = max(2000, args.users * args.duration * 4)
    rows = rb.sample_records(town, per_kind, rng)
    variants = rb.variant_records(town, 200, rng)
    # The five 窓口 searches of registry_bench, in turn (one 氏名 search in five types the
    # standard form of a stored 異体字 surname).
    kinds = ("kana", "name", "birth_kana", "address", "resident_code")
    per = [rb.search_cases(kind, rows[j :: len(kinds)], variants) for j, kind in enumerate(kinds)]
    cases = [c for group in itertools.zip_longest(*per) for c in group if c is not None]
    searches: list[dict[str, str]] = []
    for case in cases:
        q = case.query
        searches.append(
            {
                k: v
                for k, v in {
                    "kana": q.kana,
                    "name": q.name,
                    "birth_date": q.birth_date,
                    "address": q.address,
                    "resident_code": q.resident_code,
                }.items()
                if v
            }
        )
    # Households to relocate, in an order of their own per run: a re-run on a kept database
    # (--reuse) relocates other households than the previous run did.
    households = sorted({r.household_number for r in rows})
    random.Random(time.time_ns()).shuffle(households)
    relocations = [rb.household_person_ids(town, n) for n in households[: per_kind // 2]]
    today = timezone.localdate()
    gen = Generator(args.seed + 1000, town.code, today)
    return {
        "token": token,
        "searches": searches,
        "views": [r.person_id for r in rows],
        "certificates": [r.person_id for r in reversed(rows)],
        "relocations": [ids for ids in relocations if ids],
        "towns": [list(t) for t in gen.towns],
        "today": today.isoformat(),
        "movement_dates": [(today - timedelta(days=d)).isoformat() for d in range(1, 14)],
        "persons": bench.persons,
        "meta": bench.meta,
    }


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz in time")


def http(base: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers)  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as r:  # noqa: S310
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class CpuMeter:
    """CPU seconds of the gunicorn workers and of the database's server processes for the
    benchmark database: what a transaction costs, whatever else the shared machine runs."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.server_pid = server_pid
        self.database = database

    def read(self) -> dict[int, tuple[str, float]]:
        import psutil

        seen: dict[int, tuple[str, float]] = {}
        try:
            for child in psutil.Process(self.server_pid).children():
                t = child.cpu_times()
                seen[child.pid] = ("app", t.user + t.system)
        except psutil.NoSuchProcess:
            pass
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                cmd = " ".join(proc.info["cmdline"] or [])
                if cmd.startswith("postgres:") and f" {self.database} " in f"{cmd} ":
                    t = proc.cpu_times()
                    seen[proc.pid] = ("db", t.user + t.system)
            except psutil.Error:
                continue
        return seen

    @staticmethod
    def spent(
        before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
    ) -> dict[str, float]:
        totals = {"app": 0.0, "db": 0.0}
        for pid, (kind, seconds) in after.items():
            totals[kind] += seconds - before.get(pid, (kind, 0.0))[1]
        return totals


class WaitSampler:
    """Samples, every 0.2 s, what the benchmark database's busy server processes wait for, and
    on which table a waiting statement runs (the name after FROM/UPDATE/INTO, never the text)."""

    TABLE = re.compile(r'(?:FROM|UPDATE|INTO)\s+"?([a-z_]+)"?', re.IGNORECASE)

    def __init__(self, admin_url: str, database: str) -> None:
        self.admin_url = admin_url
        self.database = database
        self.counts: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.wait(0.2):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid() AND state <> 'idle'",
                    [self.database],
                ).fetchall()
                self.samples += 1
                for state, wait_type, wait_event, query in rows:
                    if wait_type == "Lock":
                        found = self.TABLE.search(query or "")
                        key = f"Lock:{wait_event} on {found.group(1) if found else '?'}"
                    elif wait_type in (None, "", "Client"):
                        # "idle in transaction": the application works inside its transaction
                        key = "running" if state == "active" and not wait_type else str(state)
                    else:
                        key = f"{wait_type}:{wait_event}"
                    self.counts[key] = self.counts.get(key, 0) + 1

    def report(self) -> dict[str, Any]:
        """Average number of server processes in each state during the phase."""
        n = max(self.samples, 1)
        ordered = sorted(self.counts.items(), key=lambda kv: -kv[1])
        return {"samples": self.samples, "mean_backends": {k: round(v / n, 2) for k, v in ordered}}


def percentile(values: list[float], p: float) -> float:
    return rb.percentile(values, p) if values else 0.0


def run_locust(
    phase: str,
    user_class: str,
    args: argparse.Namespace,
    base: str,
    workdir: Path,
    seconds: int,
    meter: CpuMeter,
    users: int | None = None,
) -> dict[str, Any]:
    users = users or args.users
    out = workdir / f"{phase}.json"
    env = dict(os.environ, LOAD_BENCH_DATA=str(workdir / "data.json"), LOAD_BENCH_OUT=str(out))
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "30",
        "--host",
        base,
        "--loglevel",
        "WARNING",
        user_class,
    ]
    log(f"phase {phase}: {user_class}, {users} users, {seconds}s")
    cpu_before = meter.read()
    admin_url = args.pg_url.rsplit("/", 1)[0] + "/postgres"
    with WaitSampler(admin_url, args.pg_url.rsplit("/", 1)[-1]) as waits:
        subprocess.run(command, env=env, check=False, stdout=subprocess.DEVNULL, cwd=workdir)  # noqa: S603
    cpu = CpuMeter.spent(cpu_before, meter.read())
    raw = json.loads(out.read_text())
    seconds_measured = raw["seconds"]
    by_kind: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for name, ms, ok in raw["samples"]:
        if ok:
            by_kind.setdefault(name, []).append(ms)
        else:
            errors[name] = errors.get(name, 0) + 1
    total_ok = sum(len(v) for v in by_kind.values())
    result: dict[str, Any] = {
        "phase": phase,
        "seconds": round(seconds_measured, 1),
        "users": users,
        "transactions": total_ok,
        "sent": len(raw["samples"]),
        "tps": round(total_ok / seconds_measured, 2) if seconds_measured else 0.0,
        "errors": errors,
        "relocations_left": raw.get("relocations_left"),
        "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
        "database_waits": waits.report(),
        "cpu_ms_per_tx": {
            k: round(1000 * v / total_ok, 1) if total_ok else None for k, v in cpu.items()
        },
        # What two cores given to nothing else would carry at this CPU cost per transaction.
        "tps_per_2_dedicated_cores": (
            round(2 * total_ok / (cpu["app"] + cpu["db"]), 1) if cpu["app"] + cpu["db"] else None
        ),
        "kinds": {
            name: {
                "count": len(v),
                "tps": round(len(v) / seconds_measured, 2),
                "p50_ms": round(percentile(v, 50), 1),
                "p95_ms": round(percentile(v, 95), 1),
                "p99_ms": round(percentile(v, 99), 1),
                "max_ms": round(max(v), 1),
            }
            for name, v in sorted(by_kind.items())
        },
        "all": {
            "p50_ms": round(percentile([x for v in by_kind.values() for x in v], 50), 1),
            "p95_ms": round(percentile([x for v in by_kind.values() for x in v], 95), 1),
        },
    }
    return result


def scrape_metrics(base: str, token: str) -> dict[str, Any]:
    status, body = http(base, "/metrics", {"Authorization": f"Bearer {token}"})
    text = body.decode()
    requests_total = 0.0
    routes: dict[str, float] = {}
    tenant: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("moyai_http_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            requests_total += float(value)
            route = labels.split('route="', 1)[1].split('"', 1)[0]
            routes[route] = routes.get(route, 0) + float(value)
        elif line.startswith("moyai_tenant_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            tenant[labels.split('municipality="', 1)[1].split('"', 1)[0]] = float(value)
    denied, _ = http(base, "/metrics", {})
    return {
        "status": status,
        "unauthenticated_status": denied,
        "requests_total": requests_total,
        "by_route": routes,
        "tenant_requests": tenant,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--users", type=int, default=8, help="concurrent clients (no think time)")
    parser.add_argument("--duration", type=int, default=60, help="seconds per measured phase")
    parser.add_argument("--warmup", type=int, default=15, help="seconds of unrecorded mix first")
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="MOYAI_DB_CONN_MAX_AGE of the server"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--reuse", action="store_true", help="reuse a kept, loaded database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    args.db = "postgres"
    if not args.pg_url.rsplit("/", 1)[-1].startswith("moyai_bench"):
        raise SystemExit("the load test database must be named moyai_bench*")

    workdir = Path(tempfile.mkdtemp(prefix="moyai-load-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = production_env(
        args.pg_url, workdir / "data", port, args.workers, args.conn_max_age
    )
    # The keys that encrypted a kept database must decrypt it again on --reuse.
    keys_file = Path(tempfile.gettempdir()) / f"{args.pg_url.rsplit('/', 1)[-1]}.keys.json"
    if args.reuse and keys_file.exists():
        server_env.update(json.loads(keys_file.read_text()))
    else:
        keys_file.write_text(json.dumps({k: server_env[k] for k in KEPT_KEYS}))
        keys_file.chmod(0o600)
    started = time.perf_counter()
    data = prepare(args, server_env)
    (workdir / "data.json").write_text(json.dumps(data, ensure_ascii=False))
    log(f"prepared in {time.perf_counter() - started:.0f}s; workdir {workdir}")

    from django.db import connections

    connections.close_all()
    server_log = (workdir / "gunicorn.log").open("wb")
    server = subprocess.Popen(  # noqa: S603
        [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
        env=server_env,
        cwd=ROOT,
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    results: list[dict[str, Any]] = []
    try:
        wait_ready(base, server)
        load_before = [round(x, 2) for x in os.getloadavg()]
        meter = CpuMeter(server.pid, args.pg_url.rsplit("/", 1)[-1])
        headers = {"Authorization": f"Bearer {data['token']}", "X-Forwarded-Proto": "https"}
        # The first certificate creates the municipality's signing key: once, before the load.
        status, body = http(
            base,
            "/api/v1/registry/certificates",
            headers,
            {"person_ids": [data["certificates"][0]], "requester": "本人", "purpose": "提出"},
        )
        if status != 200:
            raise SystemExit(f"first certificate failed: {status} {body[:300]!r}")
        sent = 2  # the readiness probe that answered and the first certificate
        if args.warmup:
            warm = run_locust("warmup", "WindowClerk", args, base, workdir, args.warmup, meter)
            sent += warm["sent"]
        phases = (
            ("healthz", "Healthz", args.duration, args.users),
            ("mix", "WindowClerk", args.duration, args.users),
            # One clerk alone: each kind's latency without queueing behind the others.
            ("single_clerk", "WindowClerk", max(args.duration // 2, 5), 1),
        )
        for phase, user_class, seconds, users in phases:
            result = run_locust(phase, user_class, args, base, workdir, seconds, meter, users)
            results.append(result)
            sent += result["sent"]
            print(json.dumps(result, ensure_ascii=False), flush=True)
        metrics = scrape_metrics(base, server_env["MOYAI_METRICS_TOKEN"])
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log.close()

    lines = (workdir / "gunicorn.log").read_text(errors="replace").splitlines()
    request_lines = [ln for ln in lines if '"logger": "moyai.request"' in ln]
    health, mix, single = results
    summary = {
        "summary": True,
        "persons": data["persons"],
        "gunicorn_workers": args.workers,
        "users": args.users,
        "mix_tps": mix["tps"],
        "mix_transactions_per_5_min": round(mix["tps"] * SEED_SECONDS),
        "seed_tps": round(SEED_TRANSACTIONS / SEED_SECONDS, 2),
        "ratio_to_seed": round(mix["tps"] / (SEED_TRANSACTIONS / SEED_SECONDS), 1),
        "healthz_tps": health["tps"],
        "mix_cpu_ms_per_tx": mix["cpu_ms_per_tx"],
        "mix_tps_per_2_dedicated_cores": mix["tps_per_2_dedicated_cores"],
        "healthz_tps_per_2_dedicated_cores": health["tps_per_2_dedicated_cores"],
        "conn_max_age": args.conn_max_age,
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "mix_share_of_healthz": round(mix["tps"] / health["tps"], 3) if health["tps"] else None,
        "metrics": metrics,
        "clients_sent": sent,
        # > 0 only by requests in flight when locust stopped a phase (served, not recorded).
        "metrics_minus_clients_sent": metrics["requests_total"] - sent,
        "single_clerk": {k: (v["p50_ms"], v["p95_ms"]) for k, v in single["kinds"].items()},
        "log_lines": {"total": len(lines), "request": len(request_lines)},
        "log_sample": request_lines[-1] if request_lines else "",
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version()},
        "load": data["meta"].get("load"),
        "workdir": str(workdir),
    }
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    log(
        f"mix {mix['tps']} tx/s (= {summary['mix_transactions_per_5_min']:,} per 5 min; seed "
        f"{SEED_TRANSACTIONS:,}), healthz {health['tps']} req/s"
    )
    for name, k in mix["kinds"].items():
        log(f"  {name:12} {k['tps']:7.2f}/s  p50 {k['p50_ms']:7.1f} ms  p95 {k['p95_ms']:7.1f} ms")
    if not args.keep:
        connections.close_all()
        _url, drop = rb.prepare_database("postgres", args.pg_url, None, reuse=True)
        drop()


if __name__ == "__main__":
    main()
