"""The import at scale, with small files: the PostgreSQL path (rows streamed with ``COPY`` into
staging tables and moved with ``INSERT … SELECT`` by a loader thread while the validation goes
on) and the generic ORM path build the same registry; files out of key order or with duplicate
keys are refused naming the line, and a refusal found after some chunks were loaded leaves
nothing behind. No timing here: ``bench/exchange_bench.py`` measures."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection

from moyai.exchange import layout, services
from moyai.exchange.selectors import export_tenant
from moyai.exchange.services import import_tenant
from moyai.platform.tenancy import tenant_context
from moyai.registry import services as registry
from moyai.registry.models import Movement, Person, ResidentRecord
from moyai.registry.rules import FuzzyDate
from moyai.registry.services import Address, NewPerson, Notification

from ..conftest import on_postgres
from .test_refusals import _nothing_written, _refresh_manifest
from .test_round_trip import files, wipe_registry

KUZU = "葛\U000e0102"


def _person(family: str, given: str, kana: str, birth: str, sex: str, relation: str, **kw: Any):
    return NewPerson(
        family_name=family,
        given_name=given,
        name_kana=kana,
        birth=FuzzyDate(birth),
        sex=sex,
        relation=relation,
        **kw,
    )


@pytest.fixture
def package(town_a, in_town, tmp_path) -> Path:
    """An export (with 個人番号) of a small registry with history — 転居, 転出 and its
    取消し, 異体字 and IVS names, a 外国人住民 — after which 葉山町 is emptied again."""
    with in_town(town_a):
        first = registry.move_in(
            notification=Notification(FuzzyDate("2021-04-01"), date(2021, 4, 2)),
            previous_address="東京都",
            address=Address(town="一色", block="1番地"),
            members=[
                _person(
                    KUZU + "西",
                    "一郎",
                    "カサイ　イチロウ",
                    "1980-01-01",
                    "1",
                    "世帯主",
                    my_number="621498320257",
                ),
                _person(KUZU + "西", "花", "カサイ　ハナ", "1982-02-02", "2", "妻"),
                _person(KUZU + "西", "𠮷男", "カサイ　ヨシオ", "2010-03-03", "1", "子"),
            ],
        )
        second = registry.move_in(
            notification=Notification(FuzzyDate("2021-05-01"), date(2021, 5, 2)),
            previous_address="横浜市",
            address=Address(town="堀内", block="2番地"),
            members=[_person("髙橋", "太郎", "タカハシ　タロウ", "1950-01-01", "1", "世帯主")],
        )
        registry.move_in(
            notification=Notification(FuzzyDate("2021-06-01"), date(2021, 6, 2)),
            previous_address="大阪市",
            address=Address(town="長柄", block="3番地"),
            members=[
                _person(
                    "SMITH",
                    "JOHN",
                    "スミス　ジョン",
                    "1990-01-01",
                    "1",
                    "世帯主",
                    kind="2",
                    name_roman="SMITH JOHN",
                    nationality="アメリカ合衆国",
                    article_30_45="中長期在留者",
                ),
            ],
        )
        registry.relocation(
            notification=Notification(FuzzyDate("2022-01-10"), date(2022, 1, 11)),
            person_ids=[r.person_id for r in first.records],
            address=Address(town="堀内", block="5番地"),
        )
        moved = registry.move_out(
            notification=Notification(FuzzyDate("2023-03-01"), date(2023, 2, 20)),
            person_ids=[r.person_id for r in second.records],
            destination="横浜市",
        )
        registry.cancel_movement(movement_number=moved.movement.number, reason="誤り")
        export_tenant(
            municipality=town_a, directory=tmp_path / "pkg", with_my_number=True, purpose="試験"
        )
        wipe_registry(town_a)
    return tmp_path / "pkg"


@pytest.fixture
def staged(monkeypatch) -> Iterator[list[Any]]:
    """Tiny chunks (every chunk boundary is crossed) and a record of each staging run."""
    runs: list[Any] = []

    class Staging(services._Staging):
        CHUNK = 2

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            runs.append(self)

    monkeypatch.setattr(services, "_Staging", Staging)
    yield runs


def _content(town) -> dict[str, Any]:
    """What the export does not show: derived keys, the 個人番号 index, the 取消 links."""
    with tenant_context(town):
        return {
            "records": list(
                ResidentRecord.objects.order_by("person__address_number", "seq").values_list(
                    "person__address_number", "seq", "name_key", "kana_key", "alias_key"
                )
            ),
            "index": list(
                Person.objects.order_by("address_number").values_list(
                    "address_number", "my_number_index"
                )
            ),
            "links": list(
                Movement.objects.order_by("number").values_list(
                    "number", "cancels__number", "cancelled_by__number"
                )
            ),
        }


def _import_and_export(town, package: Path, out: Path) -> dict[str, bytes]:
    report = import_tenant(municipality=town, directory=package, dry_run=False, purpose="試験")
    assert report.ok and report.written, report.problems[:5]
    assert report.imported_counts == report.source_counts
    with tenant_context(town):
        export_tenant(municipality=town, directory=out, with_my_number=True, purpose="試験")
    return files(out)


def test_fast_and_generic_paths_build_the_same_registry(
    town_a, in_town, package, tmp_path, staged, monkeypatch
) -> None:
    original = files(package)
    with in_town(town_a):
        first = _import_and_export(town_a, package, tmp_path / "out1")
        first_content = _content(town_a)
        assert first == original
        assert len(staged) == (1 if on_postgres() else 0)  # the fast path only on PostgreSQL
        if on_postgres():
            manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
            registry = {name for name, _ in layout.FILES}  # the 税務 files go through the ORM
            assert staged[0].rows == {
                k: v["rows"] for k, v in manifest["files"].items() if k in registry
            }
            assert staged[0].rows[layout.RECORD_FILE] > 2 * staged[0].CHUNK
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass('pg_temp.moyai_import_record')")
                assert cursor.fetchone()[0] is None  # staging gone
            # The generic ORM path (SQLite's) on the same database gives the same registry.
            wipe_registry(town_a)
            monkeypatch.setattr(services, "_can_stage", lambda: False)
            second = _import_and_export(town_a, package, tmp_path / "out2")
            assert len(staged) == 1
            assert second == original
            assert _content(town_a) == first_content
    assert any(number for _, number in first_content["index"])
    assert any(cancels for _, cancels, _ in first_content["links"])


@pytest.mark.postgres
def test_application_role_may_stage_in_temp_tables(db) -> None:
    if not on_postgres():
        pytest.skip("the application role and its temporary staging tables exist on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
    assert user == "moyai_app" and not superuser
    assert services._can_stage()


def _rows(package: Path, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((package / name).read_text(encoding="utf-8"))))


def _write_rows(package: Path, name: str, rows: list[list[str]]) -> None:
    columns = [layout.Column(c, c) for c in rows[0]]
    (package / name).write_bytes(layout.write_csv(columns, rows[1:]))
    data = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    data["files"][name]["rows"] = len(rows) - 1
    (package / "manifest.json").write_bytes(layout.manifest_bytes(data))
    _refresh_manifest(package)


def _refused(town, in_town, package: Path) -> set[tuple[str, int, str, str]]:
    with in_town(town):
        report = import_tenant(municipality=town, directory=package, dry_run=False, purpose="試験")
    assert not report.ok and not report.written
    _nothing_written(town)
    return {(p.file, p.line, p.field, p.reason) for p in report.problems}


def test_persons_out_of_order_are_refused_with_the_line(town_a, in_town, package, staged) -> None:
    rows = _rows(package, layout.PERSON_FILE)
    rows[3], rows[4] = rows[4], rows[3]  # lines 4 and 5
    _write_rows(package, layout.PERSON_FILE, rows)
    found = _refused(town_a, in_town, package)
    assert (
        layout.PERSON_FILE,
        5,
        "宛名番号",
        f"並び順が正しくありません（4行目の {rows[3][0]} より後にあります）",
    ) in found


def test_duplicated_rows_are_refused_with_both_lines(town_a, in_town, package, staged) -> None:
    records = _rows(package, layout.RECORD_FILE)
    records.append(list(records[-1]))  # the last row twice
    _write_rows(package, layout.RECORD_FILE, records)
    movements = _rows(package, layout.MOVEMENT_FILE)
    movements.insert(3, list(movements[2]))
    _write_rows(package, layout.MOVEMENT_FILE, movements)
    persons = _rows(package, layout.PERSON_FILE)
    persons.insert(2, list(persons[1]))
    _write_rows(package, layout.PERSON_FILE, persons)
    found = _refused(town_a, in_town, package)
    last = len(records)
    assert (
        layout.RECORD_FILE,
        last,
        "個人履歴番号",
        f"宛名番号・個人履歴番号が {last - 1}行目と重複しています",
    ) in found
    assert (layout.MOVEMENT_FILE, 4, "異動番号", "異動番号が重複しています") in found
    assert (layout.PERSON_FILE, 3, "宛名番号", "2行目と重複しています") in found


def test_records_out_of_order_are_refused(town_a, in_town, package, staged) -> None:
    records = _rows(package, layout.RECORD_FILE)
    records[1], records[2] = records[2], records[1]  # a person's 履歴 2 before 履歴 1
    _write_rows(package, layout.RECORD_FILE, records)
    found = _refused(town_a, in_town, package)
    assert any(
        f == layout.RECORD_FILE and line == 3 and "並び順が正しくありません（2行目の" in reason
        for f, line, _, reason in found
    )


def test_merge_join_names_missing_history_and_unknown_persons(
    town_a, in_town, package, staged
) -> None:
    persons = _rows(package, layout.PERSON_FILE)
    records = _rows(package, layout.RECORD_FILE)
    last = persons[-1][0]
    # The last person loses its history; a history row for a person not in 宛名.csv appears.
    kept = [r for r in records if r[0] != last]
    stranger = list(records[-1])
    stranger[0] = "999999999999999"
    kept.append(stranger)
    _write_rows(package, layout.RECORD_FILE, kept)
    found = _refused(town_a, in_town, package)
    assert (
        layout.RECORD_FILE,
        0,
        "最新フラグ",
        f"宛名番号 {last} の最新の記載が 0 件です（1件のはず）",
    ) in found
    assert (
        layout.PERSON_FILE,
        len(persons),
        "最新履歴番号",
        "住民票履歴の最後の履歴番号 0 と一致しません",
    ) in found
    assert (
        layout.RECORD_FILE,
        len(kept),
        "宛名番号",
        "宛名.csv にない宛名番号です",
    ) in found


def test_movement_references_and_heads_are_checked(town_a, in_town, package, staged) -> None:
    movements = _rows(package, layout.MOVEMENT_FILE)
    at = movements[0].index("取消対象異動番号")
    movements[2][at] = "777"  # 異動 on line 3 cancels a 異動 that does not exist
    _write_rows(package, layout.MOVEMENT_FILE, movements)
    records = _rows(package, layout.RECORD_FILE)
    head, latest = records[0].index("世帯主フラグ"), records[0].index("最新フラグ")
    household = records[0].index("世帯番号")
    row = next(r for r in records[1:] if r[head] == "1" and r[latest] == "1")
    row[head] = "0"
    _write_rows(package, layout.RECORD_FILE, records)
    found = _refused(town_a, in_town, package)
    assert (layout.MOVEMENT_FILE, 3, "取消対象異動番号", "その異動番号の異動がありません") in found
    assert any(
        f == layout.RECORD_FILE
        and field == "世帯主フラグ"
        and f"世帯 {row[household]} の世帯主が 0 人" in reason
        for f, _, field, reason in found
    )


@pytest.mark.postgres
def test_a_database_error_in_the_load_rolls_everything_back(
    town_a, in_town, package, staged, monkeypatch
) -> None:
    """The database refusing a chunk half-way through 住民票履歴 (here a unique violation raised
    by the server, as a lost race or a full disk would raise its own error) comes back from the
    loader thread as Django's IntegrityError, and nothing is left."""
    if not on_postgres():
        pytest.skip("the staged load runs on PostgreSQL only")
    load = services._Staging._load

    def failing(self: Any, name: str, data: bytes, rows: int) -> None:
        load(self, name, data, rows)
        if name == layout.RECORD_FILE and self.rows[name] >= 4:
            with self._raw.cursor() as cursor:
                cursor.execute("DO $$ BEGIN RAISE unique_violation USING MESSAGE = 'x'; END $$")

    monkeypatch.setattr(services._Staging, "_load", failing)
    with in_town(town_a), pytest.raises(IntegrityError):
        import_tenant(municipality=town_a, directory=package, dry_run=False, purpose="試験")
    _nothing_written(town_a)


def test_a_number_given_to_two_persons_is_found_by_the_validation(town_a, in_town, package) -> None:
    persons = _rows(package, layout.PERSON_FILE)
    at = persons[0].index("個人番号")
    assert persons[1][at] and not persons[-1][at]
    persons[-1][at] = persons[1][at]
    _write_rows(package, layout.PERSON_FILE, persons)
    with in_town(town_a):
        report = import_tenant(municipality=town_a, directory=package, dry_run=True, purpose="試験")
    [problem] = report.problems
    assert (problem.field, problem.line) == ("個人番号", 2)
    assert f"{len(persons)}行目と重複" in problem.reason
    assert "個人番号" not in problem.value or not problem.value


def test_a_value_longer_than_its_column_is_named(town_a, in_town, package) -> None:
    records = _rows(package, layout.RECORD_FILE)
    at = records[0].index("住所_方書")
    records[2][at] = "あ" * 301
    _write_rows(package, layout.RECORD_FILE, records)
    with in_town(town_a):
        report = import_tenant(municipality=town_a, directory=package, dry_run=True, purpose="試験")
    problem = report.problems[0]  # then the consequences of leaving the row out (counts)
    assert (problem.file, problem.line, problem.field) == (layout.RECORD_FILE, 3, "住所_方書")
    assert "300文字以内" in problem.reason


def test_number_set_is_a_bitmap_with_a_sparse_overflow() -> None:
    numbers = services._NumberSet()
    for n in (1, 8, 9, 1000, services._NumberSet.BITMAP_LIMIT + 5, 10**15):
        numbers.add(n)
    assert 8 in numbers and 9 in numbers and 1000 in numbers and 10**15 in numbers
    assert 2 not in numbers and 10**15 + 1 not in numbers and None not in numbers
    assert len(numbers.bits) < 300  # no bitmap for the huge numbers
    assert list(numbers) == [1, 8, 9, 1000, services._NumberSet.BITMAP_LIMIT + 5, 10**15]
