"""割り勘の画面と CLI: operator screens, a municipality admin's own statements only."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from moyai.operations.billing import services
from moyai.operations.billing.models import AllocationRun, CostPool, Membership, Statement
from moyai.operations.billing.tasks import close_month
from moyai.platform.models import Role
from moyai.platform.tenancy import tenant_context

from ...conftest import signed_in_client

pytestmark = pytest.mark.django_db

SCENARIO = """
start_year = 2027
years = 10
[[pools]]
name = "運用費"
rule = "equal_population"
base = 10_000_000
per_member = 2_000_000
[[members]]
name = "甲町"
population = 10_000
[[members]]
name = "乙村"
population = 3_000
joins = 2029
leaves = 2033
"""


def test_operator_screens_flow(consortium, operator, this_month, make_town) -> None:
    council = consortium["council"]
    assert "湘南町村クラウド協議会（試験）" in operator.get("/operations/billing/").content.decode()
    page = operator.get(f"/operations/billing/consortia/{council.pk}/").content.decode()
    assert "組織運営費" in page and "均等割・人口割（4：6）" in page
    # add a member, a pool, run the month
    town = make_town("143618", "中井町")
    r = operator.post(
        f"/operations/billing/consortia/{council.pk}/members/",
        {"municipality": town.code, "joined_on": "2024-04-01", "businesses": ["registry"]},
    )
    assert r.status_code == 302
    assert Membership.objects.filter(municipality=town, businesses=["registry"]).exists()
    r = operator.post(
        f"/operations/billing/consortia/{council.pk}/pools/",
        {
            "name": "月額利用料",
            "category": "operations",
            "rule": "unit_price",
            "period": "monthly",
            "equal_ratio": 4,
            "population_ratio": 6,
            "basis": "business_months",
            "unit_price": 45000,
            "unit_businesses": ["registry"],
            "valid_from": "2024-04",
        },
    )
    assert r.status_code == 302, r.content.decode()
    assert CostPool.objects.get(name="月額利用料").unit_prices == {"registry": 45000}
    bad = operator.post(
        f"/operations/billing/consortia/{council.pk}/pools/",
        {
            "name": "x",
            "category": "operations",
            "rule": "equal_population",
            "period": "monthly",
            "amount": 0,
            "equal_ratio": 4,
            "population_ratio": 6,
            "basis": "business_months",
            "valid_from": "2024-04",
        },
    )
    assert bad.status_code == 400 and "金額（円）を入力してください" in bad.content.decode()
    r = operator.post(
        f"/operations/billing/consortia/{council.pk}/runs/", {"month": f"{this_month:%Y-%m}"}
    )
    run = AllocationRun.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/runs/{run.pk}/")
    detail = operator.get(f"/operations/billing/consortia/{council.pk}/runs/{run.pk}/")
    assert "中井町" in detail.content.decode() and f"{run.total:,}" in detail.content.decode()
    csv = operator.get(f"/operations/billing/consortia/{council.pk}/runs/{run.pk}/csv/")
    assert csv["Content-Type"].startswith("text/csv") and "月額利用料" in csv.content.decode()
    one = operator.get(f"/operations/billing/consortia/{council.pk}/runs/{run.pk}/{town.code}/csv/")
    assert "中井町" in one.content.decode() and "寒川町" not in one.content.decode()
    # no PDF before closing; the close runs in the background (close_month); re-run refused
    pdf_url = f"/operations/billing/consortia/{council.pk}/runs/{run.pk}/{town.code}/pdf/"
    assert operator.get(pdf_url).status_code == 404
    operator.post(f"/operations/billing/consortia/{council.pk}/runs/{run.pk}/close/")
    assert operator.get(pdf_url).status_code == 404
    close_month.call(run.pk)  # what `moyai worker` does
    assert operator.get(pdf_url).content.startswith(b"%PDF")
    r = operator.post(
        f"/operations/billing/consortia/{council.pk}/runs/{run.pk}/recompute/", follow=True
    )
    assert "確定済みのため再計算できません" in r.content.decode()


def test_admin_sees_own_statements_only(consortium, make_staff, this_month, cli_actor) -> None:
    a, b, _ = consortium["towns"]
    run = services.allocation_run(council=consortium["council"], month=this_month)
    services.allocation_close(run=run)
    with tenant_context(a):
        own = Statement.objects.get()
    with tenant_context(b):
        other = Statement.objects.get()
    admin_a = signed_in_client(make_staff(a, Role.ADMIN))
    listing = admin_a.get("/operations/billing/statements/").content.decode()
    assert f"{own.total:,} 円" in listing and f"/statements/{other.pk}/" not in listing
    assert admin_a.get(f"/operations/billing/statements/{own.pk}/").status_code == 200
    assert admin_a.get(f"/operations/billing/statements/{own.pk}/pdf/").content.startswith(b"%PDF")
    assert (
        "組織運営費"
        in admin_a.get(f"/operations/billing/statements/{own.pk}/csv/").content.decode()
    )
    for suffix in ("", "csv/", "pdf/"):
        assert admin_a.get(f"/operations/billing/statements/{other.pk}/{suffix}").status_code == 404
    # other roles of the same town, and the operator, do not reach the statements screen
    registry_a = signed_in_client(make_staff(a, Role.REGISTRY))
    assert registry_a.get("/operations/billing/statements/").status_code == 403
    assert registry_a.get("/operations/billing/").status_code == 403
    assert admin_a.get("/operations/billing/").status_code == 403


def test_simulation_screen_draws_the_chart(operator) -> None:
    page = operator.get("/operations/billing/simulate/")
    assert page.status_code == 200 and "神奈川県町村会" in page.content.decode()
    r = operator.post("/operations/billing/simulate/", {"scenario": SCENARIO})
    body = r.content.decode()
    assert r.status_code == 200 and "<svg" in body and "単独運用 1,200万円" in body
    assert "2029年度: 2団体" in body  # a dot per 年度
    # 10-year totals: 甲町 pays 12,000,000 a year alone, shares 2029–2032 with 乙村
    # (4:6 of 14,000,000 over 10,000 / 3,000 people = 9,261,538.46 / 4,738,461.54: the odd
    # yen goes to the larger remainder, 乙村)
    for figure in ("109,046,152", "18,953,848", "128,000,000"):
        assert f'<th class="num">{figure}</th>' in body
    r = operator.post("/operations/billing/simulate/", {"scenario": SCENARIO, "format": "csv"})
    lines = r.content.decode().strip().split("\r\n")
    assert lines[0] == "年度,構成団体数,甲町,乙村,合計,1団体あたり平均"
    assert lines[1] == "2027,1,12000000,,12000000,12000000"
    # 2029: 14,000,000 split 4:6 over 10,000 / 3,000 people
    assert lines[3] == "2029,2,9261538,4738462,14000000,7000000"
    bad = operator.post("/operations/billing/simulate/", {"scenario": "start_year = 'x'"})
    assert bad.status_code == 400 and "scenario.start_year" in bad.content.decode()


def test_cli(consortium, this_month, tmp_path: Path) -> None:
    council = consortium["council"]
    out = io.StringIO()
    call_command(
        "billing",
        "allocate",
        "--council",
        council.name,
        "--month",
        f"{this_month:%Y-%m}",
        stdout=out,
    )
    assert "合計\t     1,090,000 円（仮計算、3団体）" in out.getvalue()
    call_command(
        "billing",
        "allocate",
        "--council",
        council.name,
        "--month",
        f"{this_month:%Y-%m}",
        "--close",
        stdout=io.StringIO(),
    )
    with pytest.raises(CommandError, match="確定済み"):
        call_command(
            "billing", "allocate", "--council", council.name, "--month", f"{this_month:%Y-%m}"
        )
    call_command(
        "billing",
        "statements",
        "--council",
        council.name,
        "--month",
        f"{this_month:%Y-%m}",
        str(tmp_path / "out"),
        stdout=io.StringIO(),
    )
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) == 6 and files[0] == f"143014_{this_month:%Y-%m}.csv"
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = io.StringIO()
    call_command("billing", "simulate", str(scenario), "--svg", str(tmp_path / "c.svg"), stdout=out)
    assert "2027年度\t 1団体\t合計     12,000,000 円" in out.getvalue()
    assert " 2団体\t   7,000,000 円\t単独比  41.7% 減" in out.getvalue()
    assert (tmp_path / "c.svg").read_text(encoding="utf-8").startswith("<svg")
    with pytest.raises(CommandError, match="--month"):
        call_command("billing", "allocate", "--council", council.name, "--month", "2027/4")
    with pytest.raises(CommandError, match="登録されていません"):
        call_command("billing", "allocate", "--council", "なし", "--month", "2027-04")


def test_demo_seed(town_a, town_b, make_town, in_town, cli_actor) -> None:
    from moyai.operations.billing.demo import seed_billing_demo
    from moyai.platform.services import council_get_or_create

    from .arrange import move_in_household

    council = council_get_or_create(name="デモ協議会")
    towns = [town_a, town_b, make_town("143413", "大磯町")]
    for size, town in enumerate(towns, start=1):
        move_in_household(town, in_town, size)
    seed_billing_demo(council=council, municipalities=towns)
    assert CostPool.objects.filter(council=council).count() == 6
    runs = list(AllocationRun.objects.filter(council=council).order_by("month"))
    assert runs[-1].status == "draft"
    if len(runs) == 2:
        assert runs[0].status == "closed"
    seed_billing_demo(council=council, municipalities=towns)  # second call: nothing new
    assert AllocationRun.objects.filter(council=council).count() == len(runs)
