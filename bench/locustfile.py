"""Load of a 窓口 (service counter) for bench/load_bench.py: run by locust, headless.

``WindowClerk`` is one clerk's terminal without think time (so the figures are a ceiling): a
search (カナ, 氏名, 生年月日 + カナ, 住所 or 住民票コード, in turn), the view of a resident, a
転居 (relocation of a whole household) and a 住民票の写し (signed PDF), weighted 4 : 3 : 1.5 :
1.5, each one API call and one database transaction. ``Healthz`` asks ``/healthz`` only: the
same server's ceiling for a request that does one ``SELECT 1``.

Inputs come from the JSON file ``LOAD_BENCH_DATA`` written by load_bench.py (API token, search
queries, person ids, households to relocate, each used once); every request's latency is written
to ``LOAD_BENCH_OUT`` when locust stops, so that load_bench.py computes exact percentiles.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task

DATA: dict[str, Any] = json.loads(Path(os.environ["LOAD_BENCH_DATA"]).read_text())
OUT = Path(os.environ["LOAD_BENCH_OUT"])
PURPOSE = "窓口での本人確認"
HEADERS = {
    "Authorization": f"Bearer {DATA.get('token', '')}",
    # As the TLS-terminating proxy would: production redirects plain HTTP to HTTPS.
    "X-Forwarded-Proto": "https",
}

_searches = itertools.cycle(DATA.get("searches", [None]))
_views = itertools.cycle(DATA.get("views", [0]))
_certificates = itertools.cycle(DATA.get("certificates", [0]))
_relocations: list[list[int]] = list(DATA.get("relocations", []))
_rng = random.Random(7)
_samples: list[tuple[str, float, bool]] = []
_window: dict[str, float] = {}


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, **_: Any) -> None:
    _samples.append((name, response_time, exception is None))


@events.test_start.add_listener
def _start(**_: Any) -> None:
    _window["start"] = time.perf_counter()


@events.test_stop.add_listener
def _stop(**_: Any) -> None:
    _window["stop"] = time.perf_counter()
    OUT.write_text(
        json.dumps(
            {
                "seconds": _window["stop"] - _window.get("start", _window["stop"]),
                "samples": _samples,
                "relocations_left": len(_relocations),
            }
        )
    )


class WindowClerk(FastHttpUser):
    wait_time = constant(0)

    def _check(self, response: Any, status: int) -> None:
        if response.status_code != status:
            response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(40)
    def search(self) -> None:
        params = dict(next(_searches), purpose=PURPOSE)
        with self.client.get(
            "/api/v1/registry/persons",
            params=params,
            headers=HEADERS,
            name="search",
            catch_response=True,
        ) as r:
            self._check(r, 200)

    @task(30)
    def view(self) -> None:
        with self.client.get(
            f"/api/v1/registry/persons/{next(_views)}",
            params={"purpose": PURPOSE},
            headers=HEADERS,
            name="view",
            catch_response=True,
        ) as r:
            self._check(r, 200)

    @task(15)
    def movement(self) -> None:
        if not _relocations:
            return
        person_ids = _relocations.pop()
        town, code, postal = _rng.choice(DATA["towns"])
        day = DATA["movement_dates"][_rng.randrange(len(DATA["movement_dates"]))]
        body = {
            "kind": "relocation",
            "notification": {
                "occurred": {"iso": day},
                "notified_on": DATA["today"],
                "notifier_name": "葉山　太郎",
                "notifier_relation": "本人",
                "counter": "本庁",
            },
            "person_ids": person_ids,
            "address": {
                "town": town,
                "block": f"{_rng.randint(1, 2999)}番地",
                "town_code": code,
                "postal_code": postal,
            },
        }
        with self.client.post(
            "/api/v1/registry/movements",
            json=body,
            headers=HEADERS,
            name="movement",
            catch_response=True,
        ) as r:
            self._check(r, 201)

    @task(15)
    def certificate(self) -> None:
        body = {"person_ids": [next(_certificates)], "requester": "本人", "purpose": "提出"}
        with self.client.post(
            "/api/v1/registry/certificates",
            json=body,
            headers=HEADERS,
            name="certificate",
            catch_response=True,
        ) as r:
            self._check(r, 200)
            if r.status_code == 200 and not r.content.startswith(b"%PDF"):
                r.failure("not a PDF")


class Healthz(FastHttpUser):
    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        with self.client.get("/healthz", name="healthz", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(str(r.status_code))
