"""割り勘 API: a 団体管理者 lists and downloads its own 負担金請求明細 and nothing else; every
read is in its audit log."""

from __future__ import annotations

import pytest
from django.test import Client

from moyai.operations.billing import services
from moyai.operations.billing.models import AllocationRun, Statement
from moyai.platform import services as platform_services
from moyai.platform.models import AuditEvent, Role
from moyai.platform.tenancy import tenant_context

from ...conftest import signed_in_client
from .arrange import traces

pytestmark = pytest.mark.django_db

BASE = "/api/v1/billing/statements"


def _own(town) -> Statement:
    with tenant_context(town):
        return Statement.objects.get()


def _last(town) -> int:
    with tenant_context(town):
        return AuditEvent.objects.count()


def _reads(town, *, after: int) -> list[AuditEvent]:
    """The statement reads recorded in ``town``'s log after its first ``after`` rows."""
    with tenant_context(town):
        return list(
            AuditEvent.objects.filter(
                seq__gt=after,
                target_type="billing_statement",
                action__in=["read", "export", "print"],
            ).order_by("seq")
        )


@pytest.fixture
def closed(consortium, this_month, cli_actor):
    run = services.allocation_run(council=consortium["council"], month=this_month)
    services.allocation_close(run=run)
    return consortium["towns"]


@pytest.fixture
def admin_a(closed, make_staff) -> Client:
    staff = make_staff(closed[0], Role.ADMIN)
    token = platform_services.api_token_create(user=staff.user, name="billing").plaintext
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_list_and_read_own_statements(closed, admin_a, this_month) -> None:
    a, b, _ = closed
    own, other = _own(a), _own(b)
    mark = _last(a)
    listing = admin_a.get(BASE, {"purpose": "予算の確認"})
    assert listing.status_code == 200
    assert listing.json() == [
        {
            "id": own.pk,
            "council_name": "湘南町村クラウド協議会（試験）",
            "month": f"{this_month:%Y-%m}",
            "month_label": services.month_label(this_month),
            "status": "closed",
            "status_label": "確定",
            "total": own.total,
            "document_serial": own.document_serial,
            "pdf": True,
        }
    ]
    detail = admin_a.get(f"{BASE}/{own.pk}").json()
    assert detail["total"] == 478_334 and sum(x["amount"] for x in detail["lines"]) == 478_334
    assert {x["pool"] for x in detail["lines"]} == {"組織運営費", "住民記録の改修"}

    csv = admin_a.get(f"{BASE}/{own.pk}/csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    rows = csv.content.decode("utf-8").strip().split("\r\n")
    assert rows[0].startswith("協議会名,団体コード") and rows[-1].endswith(",合計,,,,478334")
    pdf = admin_a.get(f"{BASE}/{own.pk}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    reads = [(e.action, e.target_id, e.purpose, e.channel) for e in _reads(a, after=mark)]
    assert reads == [
        ("read", "", "予算の確認", "api"),
        ("read", str(own.pk), "負担金請求明細の参照", "api"),
        ("export", str(own.pk), "負担金請求明細の出力（CSV）", "api"),
        ("print", str(own.pk), "負担金請求明細書の再印刷", "api"),
    ]
    assert _reads(a, after=mark)[0].detail == {"statements": [own.pk]}
    assert other.pk not in [s["id"] for s in listing.json()]


def test_another_members_statement_is_404_and_leaves_no_trace(closed, admin_a) -> None:
    other = _own(closed[1])
    before = traces(closed)
    for suffix in ("", "/csv", "/pdf"):
        r = admin_a.get(f"{BASE}/{other.pk}{suffix}")
        assert r.status_code == 404, suffix
        assert r.json()["code"] == "not_found"
    assert admin_a.get(f"{BASE}/999999").status_code == 404
    assert traces(closed) == before


def test_draft_has_no_pdf(consortium, this_month, cli_actor, make_staff) -> None:
    a = consortium["towns"][0]
    services.allocation_run(council=consortium["council"], month=this_month)
    client = signed_in_client(make_staff(a, Role.ADMIN))
    own = _own(a)
    assert client.get(BASE).json()[0]["pdf"] is False
    assert client.get(f"{BASE}/{own.pk}/pdf").status_code == 404
    assert client.get(f"{BASE}/{own.pk}/csv").status_code == 200


def test_only_the_admin_role_reads_statements(closed, make_staff) -> None:
    a = closed[0]
    own = _own(a)
    registry = signed_in_client(make_staff(a, Role.REGISTRY))
    operator = signed_in_client(make_staff(None, Role.OPERATOR, username="op-api"))
    before = traces(closed)
    for client in (registry, operator):
        assert client.get(BASE).status_code == 403
        assert client.get(f"{BASE}/{own.pk}/pdf").status_code == 403
    assert Client().get(BASE).status_code == 401
    assert traces(closed) == before


def test_the_screens_record_their_reads_too(closed, make_staff) -> None:
    a = closed[0]
    own = _own(a)
    client = signed_in_client(make_staff(a, Role.ADMIN))
    mark = _last(a)
    for suffix in ("", f"{own.pk}/", f"{own.pk}/csv/", f"{own.pk}/pdf/"):
        assert client.get(f"/operations/billing/statements/{suffix}").status_code == 200
    assert [(e.action, e.channel) for e in _reads(a, after=mark)] == [
        ("read", "web"),
        ("read", "web"),
        ("export", "web"),
        ("print", "web"),
    ]


def test_operator_reads_are_in_the_members_log(closed, operator) -> None:
    a = closed[0]
    run_id = _own(a).run_id
    council_id = AllocationRun.objects.get(pk=run_id).council_id
    base = f"/operations/billing/consortia/{council_id}/runs/{run_id}/{a.code}/"
    mark = _last(a)
    assert operator.get(base + "csv/").status_code == 200
    assert operator.get(base + "pdf/").status_code == 200
    assert [(e.action, e.actor_username) for e in _reads(a, after=mark)] == [
        ("export", "op-billing"),
        ("print", "op-billing"),
    ]
