"""個人住民税の画面: 税務 staff only; upload → 名寄せ → 賦課 → 説明 → 証明書; public 試算."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from moyai.platform.models import AuditEvent, JobRun, Role
from moyai.platform.tenancy import tenant_context
from moyai.tax.resident.models import Assessment, TaxDocument, TaxParameters
from moyai.tax.resident.synthetic import salary_file

from ..conftest import signed_in_client
from .test_resident_services import HANAKO, ICHIRO, STRANGER, YEAR, _family


@pytest.fixture
def clerk(town_a, make_staff):
    return signed_in_client(make_staff(town_a, Role.TAX))


def _upload(client: Client, *employees, dry_run: bool) -> object:
    data = salary_file(employees, income_year=YEAR - 1, municipality_code="143014")
    body = {"kind": "salary", "file": SimpleUploadedFile("kyuyo.csv", data), "year": YEAR}
    if dry_run:
        body["dry_run"] = "on"
    return client.post("/tax/resident/upload/", body)


def test_only_tax_staff_and_a_denied_action_leaves_no_trace(town_a, make_staff) -> None:
    registry_clerk = signed_in_client(make_staff(town_a, Role.REGISTRY))
    with tenant_context(town_a):
        before = AuditEvent.objects.count()
    assert registry_clerk.get("/tax/resident/").status_code == 403
    assert registry_clerk.post("/tax/resident/run/", {"year": YEAR}).status_code == 403
    assert registry_clerk.post("/tax/resident/parameters/", {"year": YEAR}).status_code == 403
    with tenant_context(town_a):
        assert AuditEvent.objects.count() == before
        assert not JobRun.objects.exists() and not TaxParameters.objects.exists()


def test_upload_queue_run_person_certificate(town_a, in_town, clerk) -> None:
    family = _family(town_a, in_town)
    head = family.records[0]

    page = _upload(clerk, ICHIRO, HANAKO, STRANGER, dry_run=True)
    assert page.status_code == 200 and "検査のみ" in page.content.decode()
    page = _upload(clerk, ICHIRO, HANAKO, STRANGER, dry_run=False)
    assert "登録しました" in page.content.decode()

    queue = clerk.get(f"/tax/resident/queue/?year={YEAR}").content.decode()
    assert "見本　太郎" in queue
    with tenant_context(town_a):
        stranger = TaxDocument.objects.get(name="見本　太郎")
    detail = clerk.get(f"/tax/resident/documents/{stranger.pk}/")
    assert detail.status_code == 200
    refused = clerk.post(f"/tax/resident/documents/{stranger.pk}/", {"forward": "1", "note": ""})
    assert refused.status_code == 400
    done = clerk.post(
        f"/tax/resident/documents/{stranger.pk}/", {"forward": "1", "note": "千代田区へ回送"}
    )
    assert done.status_code == 302

    started = clerk.post("/tax/resident/run/", {"year": YEAR})
    assert started.status_code == 302
    key = parse_qs(urlparse(started["Location"]).query)["key"][0]
    waiting = clerk.get(started["Location"]).content.decode()
    assert "順番待ち" in waiting  # the worker has not taken it yet
    from moyai.tax.resident.tasks import assess_year

    assess_year.call(town_a.code, YEAR, key)  # what `moyai worker` does
    progress = clerk.get(started["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "完了しました" in progress and "2 / 2" in progress

    overview = clerk.get(f"/tax/resident/?year={YEAR}&kana=タカハシ").content.decode()
    assert 'data-testid="assessments">2 人' in overview and "髙橋　一郎" in overview

    person = clerk.get(f"/tax/resident/persons/{head.person_id}/?year={YEAR}")
    html = person.content.decode()
    assert person.status_code == 200 and 'data-testid="trace"' in html
    assert "給与所得" in html and "課税総所得金額" in html and "6月分" in html
    with tenant_context(town_a):
        total = Assessment.objects.get(person_id=head.person_id).total
    assert f"{total:,} 円" in html

    pdf = clerk.post(
        f"/tax/resident/persons/{head.person_id}/certificate/",
        {"year": YEAR, "purpose": "保育園の申込み", "requester": "本人"},
    )
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Moyai-Serial"].startswith("143014-")


def test_declaration_then_correction_from_the_screen(town_a, in_town, clerk) -> None:
    family = _family(town_a, in_town)
    son = family.records[2]
    url = f"/tax/resident/persons/{son.person_id}/declaration/?year={YEAR}"
    bad = clerk.post(url, {"year": YEAR, "kind": "declaration", "dependant_ages": "二十"})
    assert bad.status_code == 400 and "年齢は数字" in bad.content.decode()
    ok = clerk.post(
        url,
        {
            "year": YEAR,
            "kind": "declaration",
            "salary_revenue": "1500000",
            "disability": "none",
            "family_status": "none",
        },
    )
    assert ok.status_code == 302
    page = f"/tax/resident/persons/{son.person_id}/?year={YEAR}"
    assert "課税はまだありません" in clerk.get(page).content.decode()
    done = clerk.post(page, {"year": YEAR, "correct": "1", "note": "申告による"})
    assert done.status_code == 302
    html = clerk.get(page).content.decode()
    assert 'data-testid="total">44,500 円' in html and "第4期" in html
    notice = clerk.post(f"/tax/resident/persons/{son.person_id}/notice/", {"year": YEAR})
    assert notice.status_code == 200 and notice["Content-Type"] == "application/pdf"


def test_parameters_screen_makes_a_new_version(town_a, clerk) -> None:
    page = clerk.get(f"/tax/resident/parameters/?year={YEAR}")
    assert page.status_code == 200 and "1級地" in page.content.decode()
    form = {
        "year": YEAR,
        "city_rate": "6",
        "prefecture_rate": "4.025",
        "city_per_capita": "3000",
        "prefecture_per_capita": "1000",
        "prefecture_per_capita_levy": "300",
        "grade": "1",
        "rounding": "after_credits",
        "note": "",
    }
    assert clerk.post("/tax/resident/parameters/", form).status_code == 400  # no reason
    form["note"] = "県税条例（超過課税）"
    assert clerk.post("/tax/resident/parameters/", form).status_code == 302
    with tenant_context(town_a):
        latest = TaxParameters.objects.order_by("-version").first()
    assert latest is not None and latest.version == 2
    assert latest.overrides == {"prefecture_rate": 4025, "prefecture_per_capita_levy": 300}


def test_public_simulation_stores_nothing(town_a) -> None:
    client = Client()
    assert client.get("/public/tax/simulate/143014/").status_code == 200
    assert client.get("/public/tax/simulate/999999/").status_code == 404
    with tenant_context(town_a):
        before = AuditEvent.objects.count()
    page = client.post(
        "/public/tax/simulate/143014/",
        {
            "year": YEAR,
            "age": "30",
            "kind": "declaration",
            "salary_revenue": "1500000",
            "disability": "none",
            "family_status": "none",
        },
    )
    assert page.status_code == 200
    assert 'data-testid="total">44,500 円' in page.content.decode()
    with tenant_context(town_a):
        assert AuditEvent.objects.count() == before
        assert not TaxDocument.objects.exists() and not Assessment.objects.exists()
