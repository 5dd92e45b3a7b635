"""``moyai tax``: a file of 給与支払報告書 imports, assesses and prints notices from the CLI."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from moyai.tax.resident.models import Assessment
from moyai.tax.resident.synthetic import salary_file

from ..conftest import on_postgres
from .test_resident_services import HANAKO, ICHIRO, YEAR, _family


def _run(*args: str) -> str:
    out = StringIO()
    call_command("tax", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_import_assess_notices_from_the_cli(town_a, in_town, tmp_path: Path) -> None:
    _family(town_a, in_town)
    path = tmp_path / "kyuyo.csv"
    path.write_bytes(
        salary_file([ICHIRO, HANAKO], income_year=YEAR - 1, municipality_code="143014")
    )
    out = _run("import", str(path), "-m", "143014", "--year", str(YEAR), "--dry-run")
    assert "検査のみ" in out and '"my_number": 1' in out
    out = _run("import", str(path), "-m", "143014", "--year", str(YEAR))
    assert "登録しました" in out
    out = _run("assess", "-m", "143014", "--year", str(YEAR), "--chunk", "1")
    assert "対象 2 人、賦課 2 件" in out
    out = _run("notices", str(tmp_path / "pdf"), "-m", "143014", "--year", str(YEAR))
    assert "通を出力しました" in out
    assert list((tmp_path / "pdf").glob("特別徴収_*.pdf"))
    with in_town(town_a):
        assert Assessment.objects.count() == 2


def test_a_bad_file_is_refused_with_a_report(town_a, in_town, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("315,壊れた行\r\n".encode("cp932"))
    report = tmp_path / "r.csv"
    with pytest.raises(CommandError, match="誤りがあるため登録しませんでした"):
        _run(
            "import",
            str(path),
            "-m",
            "143014",
            "--year",
            str(YEAR),
            "--report",
            str(tmp_path / "r.csv"),
        )
    assert "列" in report.read_text("utf-8-sig")


def test_simulate_prints_the_trace_and_json(tmp_path: Path, db) -> None:
    data = tmp_path / "me.json"
    data.write_text(json.dumps({"age": 30, "salary_revenue": 1_500_000}), "utf-8")
    out = _run("simulate", str(data), "--year", str(YEAR))
    assert "給与所得" in out and "年税額 44,500 円" in out
    result = json.loads(_run("simulate", str(data), "--year", str(YEAR), "--json"))
    assert result["total"] == 44_500 and result["trace"][-1]["key"] == "total"
    data.write_text(json.dumps({"age": 30, "salary_revenue": "たくさん"}), "utf-8")
    with pytest.raises(CommandError, match="salary_revenue"):
        _run("simulate", str(data), "--year", str(YEAR))


@pytest.mark.postgres
def test_a_run_shared_by_processes(transactional_db, town_a, in_town, tmp_path: Path) -> None:
    """--workers: worker processes share one run (committed data: each has its connection).
    PostgreSQL only: the SQLite test database lives in this process's memory."""
    if not on_postgres():
        pytest.skip(
            "worker processes each connect to the one database; the SQLite test database "
            "lives in this process's memory, out of their reach (runs on PostgreSQL)"
        )
    _family(town_a, in_town)
    path = tmp_path / "kyuyo.csv"
    path.write_bytes(
        salary_file([ICHIRO, HANAKO], income_year=YEAR - 1, municipality_code="143014")
    )
    _run("import", str(path), "-m", "143014", "--year", str(YEAR))
    out = _run("assess", "-m", "143014", "--year", str(YEAR), "--workers", "2")
    assert "対象 2 人、賦課 2 件" in out and "2 プロセス" in out
    with in_town(town_a):
        assert set(Assessment.objects.values_list("reason", flat=True)) == {"initial"}
    out = _run("assess", "-m", "143014", "--year", str(YEAR), "--workers", "2")
    assert "賦課 0 件、変更なし 2 件" in out
