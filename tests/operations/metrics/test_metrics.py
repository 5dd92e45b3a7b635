"""/metrics: restricted, Prometheus text, bounded labels, no personal data."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from moyai.platform import services as platform_services
from moyai.platform.models import Role
from moyai.platform.tasks import dispatch_events
from tests.registry.test_api import MOVE_IN, post

TOKEN = "t" * 40


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def scraper(settings) -> Client:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = []
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


@pytest.mark.django_db
def test_metrics_are_not_public(settings) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW = []
    assert Client().get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert Client().get("/metrics").status_code == 404
    wrong = Client(HTTP_AUTHORIZATION="Bearer " + "x" * 40)
    assert wrong.get("/metrics").status_code == 404
    assert Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}").get("/metrics").status_code == 200


@pytest.mark.django_db
def test_allow_list_of_addresses(settings) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW = ["10.0.5.0/24", "not-an-address", "::1"]
    assert Client(REMOTE_ADDR="10.0.5.10").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.0.6.10").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="192.0.2.1").get("/metrics").status_code == 404


@pytest.mark.django_db
def test_requests_counted_by_route_name_not_path(scraper) -> None:
    before = value(
        "moyai_http_requests_total",
        route="api/v1/registry/persons/<person_id>",
        method="GET",
        status="401",
    )
    for person_id in (123456, 654321):
        assert Client().get(f"/api/v1/registry/persons/{person_id}").status_code == 401
    text = scraper.get("/metrics").content.decode()
    assert "123456" not in text and "654321" not in text
    found = samples(text)
    key = (
        "moyai_http_requests_total",
        (
            ("method", "GET"),
            ("route", "api/v1/registry/persons/<person_id>"),
            ("status", "401"),
        ),
    )
    assert found[key] == before + 2
    assert any(name == "moyai_http_request_duration_seconds_count" for name, _ in found), (
        "latency histogram missing"
    )
    Client().get("/no/such/page/987654")
    text = scraper.get("/metrics").content.decode()
    assert "987654" not in text and 'route="<unresolved>"' in text


@pytest.mark.django_db
def test_per_tenant_usage_by_code_and_no_personal_data(scraper, town_a, make_staff) -> None:
    staff = make_staff(town_a, Role.REGISTRY)
    token = platform_services.api_token_create(user=staff.user, name="t").plaintext
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    before = value("moyai_tenant_requests_total", municipality="143014")
    assert post(api, "/api/v1/registry/movements", MOVE_IN).status_code == 201
    found = api.get("/api/v1/registry/persons", {"name": "髙橋", "purpose": "照会"})
    assert found.status_code == 200 and found.json()
    text = scraper.get("/metrics").content.decode()
    parsed = samples(text)
    assert parsed[("moyai_tenant_requests_total", (("municipality", "143014"),))] == before + 2
    assert parsed[("moyai_tenant_request_seconds_total", (("municipality", "143014"),))] > 0
    assert parsed[("moyai_tenant_staff_accounts", (("municipality", "143014"),))] == 1
    assert parsed[("moyai_tenants", ())] == 1
    for personal in ("髙橋", "タカハシ", "一郎", "一色", staff.user.username):
        assert personal not in text


@pytest.mark.django_db
def test_task_queue_depth_from_the_task_table(scraper, town_a) -> None:
    dispatch_events.enqueue(town_a.code)
    dispatch_events.enqueue(town_a.code)
    parsed = samples(scraper.get("/metrics").content.decode())
    assert (
        parsed[
            (
                "moyai_task_queue_depth",
                (("backend", "db"), ("queue", "default"), ("status", "ready")),
            )
        ]
        == 2
    )
    assert parsed[("moyai_metrics_source_up", (("source", "tasks"),))] == 1


@pytest.mark.django_db
def test_the_newest_backup_of_each_municipality_for_alerting(
    scraper, town_a, town_b, cli_actor, monkeypatch, tmp_path
) -> None:
    """moyai_backup_latest_timestamp_seconds: an alert on ``time() - …`` finds a municipality
    whose nightly backup stopped (a lock held by a hung process, a broken target)."""
    from moyai.operations.backup import services as backup
    from moyai.operations.backup.targets import DirectoryTarget
    from moyai.operations.metrics import collectors

    monkeypatch.setenv("MOYAI_BACKUP_TARGETS", str(tmp_path / "backups"))
    collectors._backup_cache.clear()
    result = backup.backup_tenant(
        municipality=town_a,
        kind="full",
        targets=[DirectoryTarget(tmp_path / "backups")],
        keys={1: bytes(range(32))},
    )
    parsed = samples(scraper.get("/metrics").content.decode())
    taken = result.taken_at.timestamp()
    for kind in ("any", "full"):
        key = (("kind", kind), ("municipality", town_a.code))
        assert parsed[("moyai_backup_latest_timestamp_seconds", key)] == pytest.approx(taken)
    assert parsed[("moyai_backup_snapshots", (("municipality", town_a.code),))] == 1
    assert parsed[("moyai_backup_snapshots", (("municipality", town_b.code),))] == 0
    assert not any(
        name == "moyai_backup_latest_timestamp_seconds" and dict(labels)["municipality"] == "143219"
        for name, labels in parsed
    )  # never backed up: no timestamp (alert on absent() too)
    assert parsed[("moyai_metrics_source_up", (("source", "backups"),))] == 1
