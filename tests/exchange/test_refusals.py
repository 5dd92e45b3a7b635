"""Bad input is refused with a report naming each problem, and nothing is written."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from moyai.exchange import layout
from moyai.exchange.selectors import export_tenant
from moyai.exchange.services import import_tenant
from moyai.platform.models import AuditEvent
from moyai.platform.tenancy import tenant_context
from moyai.registry import services
from moyai.registry.models import Person
from moyai.registry.rules import FuzzyDate, resident_code_check_digit
from moyai.registry.services import Address, NewPerson, Notification


@pytest.fixture
def package(town_a, in_town, tmp_path) -> Path:
    """A valid export of 葉山町, then 葉山町's registry emptied again (the import target)."""
    from .test_round_trip import wipe_registry

    with in_town(town_a):
        services.move_in(
            notification=Notification(FuzzyDate("2021-04-01"), date(2021, 4, 2)),
            previous_address="東京都",
            address=Address(town="一色"),
            members=[
                NewPerson(
                    family_name="髙橋",
                    given_name="一郎",
                    name_kana="タカハシ",
                    birth=FuzzyDate("1980-01-01"),
                    sex="1",
                    relation="世帯主",
                ),
                NewPerson(
                    family_name="髙橋",
                    given_name="花",
                    name_kana="タカハシ　ハナ",
                    birth=FuzzyDate("1950-01-01", True, "昭和25年頃"),
                    sex="2",
                    relation="母",
                ),
            ],
        )
        export_tenant(
            municipality=town_a, directory=tmp_path / "pkg", with_my_number=False, purpose="試験"
        )
        wipe_registry(town_a)
    return tmp_path / "pkg"


def _edit(package: Path, name: str, line: int, column: str, value: str) -> None:
    path = package / name
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[line - 1][rows[0].index(column)] = value
    path.write_bytes(layout.write_csv([layout.Column(c, c) for c in rows[0]], rows[1:]))


def _refresh_manifest(package: Path) -> None:
    import hashlib
    import json

    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    for name in manifest["files"]:
        manifest["files"][name]["sha256"] = hashlib.sha256(
            (package / name).read_bytes()
        ).hexdigest()
    (package / "manifest.json").write_bytes(layout.manifest_bytes(manifest))


def _nothing_written(town) -> None:
    with tenant_context(town):
        assert not Person.objects.exists()
        assert not AuditEvent.objects.filter(target_type="registry_import").exists()


def test_dry_run_validates_and_writes_nothing(town_a, in_town, package) -> None:
    with in_town(town_a):
        report = import_tenant(municipality=town_a, directory=package, dry_run=True, purpose="試験")
    assert report.ok and not report.written
    assert report.source_counts["宛名"] == 2 and report.source_counts["世帯"] == 1
    _nothing_written(town_a)


def test_malformed_files_are_refused_with_every_problem_named(
    town_a, in_town, package, tmp_path
) -> None:
    _edit(package, layout.RECORD_FILE, 2, "生年月日", "1980-02-30x")
    _edit(package, layout.RECORD_FILE, 3, "住民状態", "7")
    _edit(package, layout.RECORD_FILE, 3, "続柄コード", '["孫"]')
    _edit(package, layout.MOVEMENT_FILE, 2, "異動事由", "teleport")
    _refresh_manifest(package)
    with in_town(town_a):
        report = import_tenant(
            municipality=town_a, directory=package, dry_run=False, purpose="試験"
        )
    found = {(p.file, p.line, p.field) for p in report.problems}
    assert (layout.RECORD_FILE, 2, "生年月日") in found
    assert (layout.RECORD_FILE, 3, "住民状態") in found
    assert (layout.RECORD_FILE, 3, "続柄コード") in found
    assert (layout.MOVEMENT_FILE, 2, "異動事由") in found
    assert not report.written
    _nothing_written(town_a)


def test_the_same_number_for_two_persons_is_refused(town_a, in_town, package) -> None:
    code = "1234567890" + str(resident_code_check_digit("1234567890"))
    _edit(package, layout.PERSON_FILE, 2, "住民票コード", code)
    _edit(package, layout.PERSON_FILE, 3, "住民票コード", code)
    _refresh_manifest(package)
    with in_town(town_a):
        report = import_tenant(
            municipality=town_a, directory=package, dry_run=False, purpose="試験"
        )
    [problem] = [p for p in report.problems if p.field == "住民票コード"]
    assert (problem.file, problem.line) == (layout.PERSON_FILE, 2)
    assert "3行目と重複" in problem.reason
    assert not report.written
    _nothing_written(town_a)


def test_bad_encoding_and_column_count(town_a, in_town, package) -> None:
    path = package / layout.PERSON_FILE
    path.write_bytes(path.read_bytes() + "壊れた行,1\n".encode("cp932"))
    _refresh_manifest(package)
    with in_town(town_a):
        report = import_tenant(municipality=town_a, directory=package, dry_run=True, purpose="試験")
    assert any("UTF-8" in p.reason or "列の数" in p.reason for p in report.problems)
    _nothing_written(town_a)


def test_tampered_file_fails_the_checksum(town_a, in_town, package) -> None:
    _edit(package, layout.RECORD_FILE, 2, "氏名", "改ざん　太郎")
    with in_town(town_a):
        report = import_tenant(municipality=town_a, directory=package, dry_run=True, purpose="試験")
    assert any(p.field == "sha256" for p in report.problems)


def test_cli_writes_reports_and_refuses_a_non_empty_target(
    town_a, in_town, package, tmp_path
) -> None:
    call_command(
        "import", "-m", town_a.code, str(package), "--dry-run", "--report", str(tmp_path / "r1")
    )
    assert (tmp_path / "r1" / "report.html").read_text(encoding="utf-8").count("問題はありません")
    call_command("import", "-m", town_a.code, str(package))
    with pytest.raises(CommandError, match="取り込みませんでした"):
        call_command("import", "-m", town_a.code, str(package), "--report", str(tmp_path / "r2"))
    text = (tmp_path / "r2" / "report.csv").read_text(encoding="utf-8")
    assert "すでに住民記録があります" in text
