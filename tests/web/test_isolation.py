"""Tenant isolation, proved over every URL pattern and every API operation (not a chosen list).

Municipality B holds data marked with a canary string. Staff of A (with every 業務 role) and a
platform operator request every route — each id parameter filled with one of B's ids — with GET
and POST. Every answer must be a refusal (403/404/405) where a B id is involved, no answer may
contain the canary, and B's data must be exactly as before.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from moyai.documents import services as document_services
from moyai.documents.kinds import SAMPLE as SAMPLE_DOCUMENT
from moyai.exchange.models import GaijiQueueItem
from moyai.platform import services
from moyai.platform.audit import Actor, acting_as, audit_record
from moyai.platform.models import MUNICIPAL_ROLES, Role, StaffUser, SupportGrant
from moyai.platform.outbox import emit
from moyai.platform.tenancy import tenant_context, tenant_models
from moyai.registry import services as registry_services
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification
from moyai.tax.addressees import services as addressee_services
from moyai.tax.light_vehicle import services as vehicle_services
from moyai.tax.property import services as property_services
from moyai.tax.resident.models import Employer, TaxDocument
from moyai.web.api import api
from tests.disaster.isolation import seed_b as seed_disaster_b

from ..conftest import signed_in_client

CANARY = "CANARY-寒川-7f3a"
# Query parameters that let every GET reach its lookup (instead of failing validation first).
QUERY = {"after": 0, "purpose": "isolation test", "name": "カナリア", "fiscal_year": 2026}
BODY = {
    "reason": "isolation test",
    "purpose": "isolation test",
    "step": "commit",
    "fiscal_year": 2026,
    "note": "isolation test",
}
PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def all_routes(patterns=None, prefix: str = "") -> list[str]:
    """Every URL pattern of the project as a route string, resolvers expanded."""
    routes: list[str] = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            routes += all_routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            routes.append(prefix + str(p.pattern))
    return routes


@pytest.fixture
def world(town_a, town_b, make_town, make_staff):
    town_c = make_town("143413", "大磯町")
    admin_b = make_staff(town_b, Role.ADMIN)
    helper_c = make_staff(town_c, Role.DISASTER)
    StaffUser.objects.filter(pk=admin_b.user.pk).update(display_name=CANARY)
    with acting_as(Actor(username="cli:test", channel="cli", municipality_code=town_b.code)):
        start = timezone.now() - timedelta(minutes=1)
        grant_b = services.support_grant_create(
            host=town_b,
            granted_by=admin_b.user,
            grantee_username=helper_c.user.username,
            roles=[Role.DISASTER],
            reason=CANARY,
            starts_at=start,
            expires_at=start + timedelta(days=1),
        )
        with tenant_context(town_b):
            # A certificate of B with the canary in its personal context (issued before the
            # canary event: test_b_sees_its_own_canary reads B's feed).
            document_b = document_services.document_issue(
                kind=SAMPLE_DOCUMENT.code,
                subject_type="person",
                subject_id="9",
                template_name="documents/sample.html",
                context={
                    "name": CANARY,
                    "birth_date_wareki": CANARY,
                    "address": CANARY,
                    "statement": CANARY,
                },
                purpose=CANARY,
            ).document
            audit_b = audit_record(
                action="read", target_type="person", target_id="9", purpose=CANARY
            )
            event_b = emit(type="registry.test", subject_id="9", payload={"name": CANARY})
            moved_in = registry_services.move_in(
                notification=Notification(FuzzyDate("2026-04-01"), date(2026, 4, 2)),
                previous_address=CANARY,
                address=Address(town=CANARY),
                members=[
                    NewPerson(
                        family_name=CANARY,
                        given_name="花子",
                        name_kana="カナリア　ハナコ",
                        birth=FuzzyDate("1990-01-01"),
                        sex="2",
                        relation="世帯主",
                    )
                ],
            )
            resident_b = moved_in.records[0]
            gaiji_b = GaijiQueueItem.objects.create(
                vendor=CANARY, code="E000", hint="辻", example=CANARY, first_seen=CANARY
            )
            employer_b = Employer.objects.create(designation_number="9999", name=CANARY)
            tax_document_b = TaxDocument.objects.create(
                fiscal_year=2026,
                kind="salary",
                match="unmatched",
                name=CANARY,
                address=CANARY,
                employer=employer_b,
                values={"salary_revenue": 1},
                received_by=CANARY,
            )
            # 固定資産税・軽自動車税: a 住登外 owner of B with a parcel, a vehicle, assessed.
            owner_b = addressee_services.addressee_register_non_resident(
                name=CANARY, kana="カナリア", address=CANARY
            )
            parcel_b = property_services.parcel_register(
                owner_id=owner_b.pk,
                facts=property_services.ParcelFacts(CANARY, "1-1", "宅地", "100", 9_000_000),
                changed_on=date(2025, 6, 1),
                note=CANARY,
            )
            building_b = property_services.building_register(
                owner_id=owner_b.pk,
                facts=property_services.BuildingFacts(
                    CANARY, "1番", "居宅", "木造", "80", 5_000_000, 2000
                ),
                changed_on=date(2025, 6, 1),
                note=CANARY,
            )
            vehicle_b = vehicle_services.vehicle_register(
                owner_id=owner_b.pk,
                facts=vehicle_services.VehicleFacts(
                    CANARY[:30], "cargo", first_inspection="2019-01"
                ),
                acquired_on=date(2025, 1, 1),
                note=CANARY,
            )
            disaster_ids_b = seed_disaster_b(CANARY)
        property_services.assessment_run(municipality=town_b, fiscal_year=2026)
        vehicle_services.assessment_run(municipality=town_b, fiscal_year=2026)
        statement_b = _billing_statement(town_b)
    ids = {
        "audit_id": audit_b.pk,
        "grant_id": grant_b.pk,
        "event_id": event_b.pk,
        "serial": document_b.serial,
        "person_id": resident_b.person_id,
        "household_number": resident_b.household_number,
        "movement_number": moved_in.movement.number,
        "item_id": gaiji_b.pk,
        "document_id": tax_document_b.pk,
        "employer_id": employer_b.pk,
        "addressee_id": owner_b.pk,
        "parcel_id": parcel_b.pk,
        "vehicle_id": vehicle_b.pk,
        "building_id": building_b.pk,
        "code": town_b.code,
        **disaster_ids_b,
        "statement_id": statement_b.pk,
        # 割り勘: 協議会・費用プール・構成団体・月次の按分 are operator-level tables (no tenant
        # data; the operator sees every 協議会), so these ids name no row: the routes must
        # refuse staff (403) and answer the operator 404. B's own data is statement_id.
        "council_id": 999_999,
        "run_id": 999_999,
        "membership_id": 999_999,
        "pool_id": 999_999,
    }
    staff_a = make_staff(town_a, *MUNICIPAL_ROLES)
    operator = make_staff(None, Role.OPERATOR, username="operator-x")
    return {
        "a": town_a,
        "b": town_b,
        "ids": ids,
        "staff": {"staff_a": staff_a, "operator": operator},
    }


def _billing_statement(town_b):
    """B's 負担金請求明細 of a one-member 協議会 (a tenant row of B)."""
    from moyai.operations.billing import services as billing_services
    from moyai.operations.billing.models import Statement

    council = billing_services.consortium_create(name="割り勘の分離試験")
    billing_services.membership_add(
        council=council, municipality=town_b, joined_on=date(2026, 4, 1)
    )
    billing_services.pool_create(
        council=council,
        data=billing_services.PoolData(
            name="組織運営費",
            category="operations",
            rule="equal_population",
            amount=100_000,
            valid_from=date(2026, 4, 1),
        ),
    )
    run = billing_services.allocation_run(council=council, month=date(2026, 4, 1))
    with tenant_context(town_b):
        return Statement.objects.get(run=run)


def snapshot_b(town_b) -> dict:
    with tenant_context(town_b):
        counts = {m._meta.label: m.objects.count() for m in tenant_models()}
    counts["grants"] = list(
        SupportGrant.objects.filter(host=town_b).values_list("pk", "revoked_at", "expires_at")
    )
    counts["staff"] = list(
        StaffUser.objects.filter(municipality=town_b).values_list("pk", "display_name", "is_active")
    )
    return counts


# Public by design: certificate verification (page and API) answers 200 for a genuine serial
# of any municipality, because residents and third parties check certificates without signing
# in. It shows no personal data — the canary check applies to these routes as to every other.
PUBLIC_ROUTES = {
    "documents/verify/<str:serial>/",
    "api/v1/documents/verify/<serial>",
    # 個人住民税の試算 for residents: the municipality's tax parameters only, nothing personal.
    "public/tax/simulate/<str:code>/",
}


def fill(route: str, ids: dict[str, int | str]) -> str:
    def sub(m: re.Match) -> str:
        name = m.group("name")
        assert name in ids, (
            f"route {route!r} has parameter {name!r}: add one of B's ids for it to this test"
        )
        return str(ids[name])

    return "/" + PARAM.sub(sub, route).replace("^", "").replace("$", "")


def test_every_route_refuses_another_municipalitys_ids(world) -> None:
    routes = all_routes()
    assert len(routes) >= 10
    before = snapshot_b(world["b"])
    checked = 0
    for route in routes:
        url = fill(route, world["ids"])
        has_id = bool(PARAM.search(route))
        for who, staff in world["staff"].items():
            for method in ("get", "post"):
                client = signed_in_client(staff)  # fresh: a POST to /logout/ signs out
                if method == "get":
                    response = client.get(url, QUERY)
                elif url.startswith("/api/"):
                    response = client.post(url, json.dumps(BODY), content_type="application/json")
                else:
                    response = client.post(url, BODY)
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                for form in (CANARY.encode(), json.dumps(CANARY).strip('"').encode()):
                    assert form not in body, f"{who} {method.upper()} {url} leaked B"
                if has_id and route in PUBLIC_ROUTES:
                    assert response.status_code in (200, 400, 403, 404, 405), (
                        f"{who} {method.upper()} {url} answered {response.status_code}"
                    )
                elif has_id:
                    assert response.status_code in (403, 404, 405), (
                        f"{who} {method.upper()} {url} answered {response.status_code}"
                    )
                checked += 1
    assert snapshot_b(world["b"]) == before, "a request of A's left a trace in B's data"
    assert checked == len(routes) * 4


def test_every_api_operation_is_a_route_the_enumeration_covers() -> None:
    routes = {
        "/" + PARAM.sub(lambda m: "{" + m.group("name") + "}", r)
        for r in all_routes()
        if r.startswith("api/v1/")
    }
    schema = api.get_openapi_schema()
    operations = {path for path in schema["paths"]}
    assert operations, "the API has operations"
    missing = {op for op in operations if op not in routes}
    assert not missing, f"API operations not reached by the URL enumeration: {missing}"


def test_b_sees_its_own_canary(world, make_staff) -> None:
    """The canary is visible to B itself, so its absence above means something."""
    client = signed_in_client(make_staff(world["b"], Role.ADMIN, Role.REGISTRY))
    feed = client.get("/api/v1/events", {"after": 0})
    assert any(e["payload"].get("name") == CANARY for e in feed.json()["events"])
    assert CANARY in feed.content.decode()  # UTF-8 JSON, not \\u escapes
    detail = client.get(f"/platform/audit/{world['ids']['audit_id']}/")
    assert detail.status_code == 200 and CANARY in detail.content.decode()
