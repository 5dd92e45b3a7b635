"""標準レイアウトからの取込み: validate everything first, then write all or nothing.

Import goes into a municipality that has no registry data yet. Every problem is collected with
its file, line, field, value and reason; with any problem (or ``dry_run``) nothing is written.
A real run is one transaction: a crash leaves nothing behind, so running it again cannot
duplicate anything. It ends with a reconciliation of the database against the files.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter as Tally
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from moyai.exchange import layout
from moyai.platform import crypto
from moyai.platform.audit import audit_record
from moyai.platform.models import AuditAction, Counter, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import tenant_context
from moyai.registry.models import (
    KanaStatus,
    Movement,
    Person,
    ResidentKind,
    ResidentRecord,
    ResidentStatus,
    Sex,
)
from moyai.registry.rules import (
    FuzzyDate,
    MovementKind,
    m11_problem,
    my_number_problem,
    relation_problem,
)
from moyai.registry.services import NUMBER_WIDTH, _keys

BATCH = 2000


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    value: str
    reason: str


@dataclass
class ImportReport:
    municipality_code: str
    dry_run: bool
    problems: list[Problem] = field(default_factory=list)
    source_counts: dict[str, Any] = field(default_factory=dict)
    imported_counts: dict[str, Any] = field(default_factory=dict)
    written: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Stop(Exception):
    """Too many problems to go on listing."""


MAX_PROBLEMS = 1000


class _Reader:
    """Reads one standard-layout file, decoding cells and collecting problems."""

    def __init__(
        self, report: ImportReport, directory: Path, name: str, columns: tuple[layout.Column, ...]
    ) -> None:
        self.report = report
        self.path = directory / name
        self.name = name
        self.columns = columns

    def problem(self, line: int, field_name: str, value: str, reason: str) -> None:
        self.report.problems.append(Problem(self.name, line, field_name, value, reason))
        if len(self.report.problems) >= MAX_PROBLEMS:
            raise _Stop

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            handle = self.path.open(encoding="utf-8", newline="")
        except FileNotFoundError:
            self.problem(0, "", "", "ファイルがありません")
            return
        with handle:
            reader = csv.reader(handle)
            try:
                header = next(reader)
            except (StopIteration, UnicodeDecodeError):
                self.problem(1, "", "", "見出し行がないか、UTF-8 として読めません")
                return
            expected = [c.name for c in self.columns]
            if header != expected:
                missing = [c for c in expected if c not in header]
                extra = [c for c in header if c not in expected]
                self.problem(
                    1,
                    "",
                    ",".join(header[:5]),
                    f"列が標準レイアウトと一致しません（不足: {missing[:5]}、余分: {extra[:5]}）",
                )
                return
            line = 1
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except UnicodeDecodeError as exc:
                    self.problem(line + 1, "", "", f"UTF-8 として読めません（{exc.reason}）")
                    return
                except csv.Error as exc:
                    self.problem(line + 1, "", "", f"CSV の形式が正しくありません（{exc}）")
                    return
                line += 1
                if len(cells) != len(self.columns):
                    self.problem(
                        line, "", "", f"列の数が {len(cells)} です（{len(self.columns)} 列が必要）"
                    )
                    continue
                values: dict[str, Any] = {}
                good = True
                for column, text in zip(self.columns, cells, strict=True):
                    try:
                        values[column.attr] = layout.decode(text, column.kind)
                    except layout.CellError as exc:
                        self.problem(line, column.name, text, str(exc))
                        good = False
                if good:
                    yield line, values


def _check_date(
    reader: _Reader,
    line: int,
    column: str,
    iso: str,
    unknown: bool,
    label: str,
    required: bool = False,
) -> None:
    if not iso:
        if required:
            reader.problem(line, column, iso, "必須の日付がありません")
        return
    try:
        FuzzyDate(iso, unknown, label)
    except ValueError as exc:
        reader.problem(line, column, iso, str(exc))


def _check_manifest(
    report: ImportReport, directory: Path, municipality: Municipality
) -> dict[str, Any]:
    path = directory / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.problems.append(Problem("manifest.json", 0, "", "", "manifest.json がありません"))
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        report.problems.append(Problem("manifest.json", 0, "", "", f"読めません（{exc}）"))
        return {}
    if manifest.get("format") != layout.FORMAT or manifest.get("version") != layout.VERSION:
        report.problems.append(
            Problem(
                "manifest.json",
                0,
                "format",
                f"{manifest.get('format')} {manifest.get('version')}",
                f"対応する形式は {layout.FORMAT} {layout.VERSION} です",
            )
        )
    if manifest.get("団体コード") != municipality.code:
        report.problems.append(
            Problem(
                "manifest.json",
                0,
                "団体コード",
                str(manifest.get("団体コード")),
                f"取込先の団体コード {municipality.code} と一致しません",
            )
        )
    for name, _ in layout.FILES:
        info = manifest.get("files", {}).get(name)
        if info is None:
            report.problems.append(
                Problem("manifest.json", 0, "files", name, "ファイルの記載がありません")
            )
            continue
        try:
            digest = hashlib.sha256((directory / name).read_bytes()).hexdigest()
        except FileNotFoundError:
            continue  # reported when the file is read
        if digest != info.get("sha256"):
            report.problems.append(
                Problem(
                    name,
                    0,
                    "sha256",
                    digest,
                    "manifest.json の SHA-256 と一致しません（改変・破損）",
                )
            )
    return manifest


def _validate(report: ImportReport, directory: Path, manifest: dict[str, Any]) -> None:
    """Pass 1: every row decoded and checked; keys and references collected."""
    persons: dict[str, int] = {}
    movements: set[int] = set()
    latest_per_person: Tally[str] = Tally()
    seqs: dict[str, int] = {}
    status_counts: Tally[str] = Tally()
    households: Tally[str] = Tally()
    heads: Tally[str] = Tally()

    reader = _Reader(report, directory, layout.PERSON_FILE, layout.PERSON_COLUMNS)
    for line, v in reader.rows():
        number = v["address_number"]
        if m11_problem(number) or len(number) != NUMBER_WIDTH:
            reader.problem(line, "宛名番号", number, "宛名番号（15桁・検査数字）が正しくありません")
        if number in persons:
            reader.problem(line, "宛名番号", number, f"{persons[number]}行目と重複しています")
        persons[number] = line
        if v["my_number"] and my_number_problem(v["my_number"]):
            reader.problem(line, "個人番号", v["my_number"], str(my_number_problem(v["my_number"])))
        if v["latest_seq"] is None or v["latest_seq"] < 1:
            reader.problem(line, "最新履歴番号", str(v["latest_seq"]), "1以上の数字が必要です")
        seqs[number] = v["latest_seq"] or 0

    reader = _Reader(report, directory, layout.MOVEMENT_FILE, layout.MOVEMENT_COLUMNS)
    references: list[tuple[int, str, int]] = []
    for line, v in reader.rows():
        if v["number"] is None:
            reader.problem(line, "異動番号", "", "異動番号がありません")
            continue
        if v["number"] in movements:
            reader.problem(line, "異動番号", str(v["number"]), "異動番号が重複しています")
        movements.add(v["number"])
        if v["kind"] not in MovementKind._value2member_map_:
            reader.problem(line, "異動事由", v["kind"], "異動事由のコードがありません")
        _check_date(
            reader,
            line,
            "異動年月日",
            v["occurred_on"],
            v["occurred_on_unknown"],
            v["occurred_on_label"],
            required=True,
        )
        for attr, name in (
            ("cancels_number", "取消対象異動番号"),
            ("cancelled_by_number", "取消異動番号"),
        ):
            if v[attr] is not None:
                references.append((line, name, v[attr]))
    for line, name, number in references:
        if number not in movements:
            reader.problem(line, name, str(number), "その異動番号の異動がありません")

    reader = _Reader(report, directory, layout.RECORD_FILE, layout.RECORD_COLUMNS)
    seen: dict[str, int] = {}
    rows = 0
    for line, v in reader.rows():
        rows += 1
        number = v["address_number"]
        if number not in persons:
            reader.problem(line, "宛名番号", number, "宛名.csv にない宛名番号です")
        if v["movement_number"] not in movements:
            reader.problem(
                line, "異動番号", str(v["movement_number"]), "異動.csv にない異動番号です"
            )
        expected = seen.get(number, 0) + 1
        if v["seq"] != expected:
            reader.problem(
                line,
                "個人履歴番号",
                str(v["seq"]),
                f"履歴番号は1から連続します（{expected} のはず）",
            )
        seen[number] = v["seq"] or 0
        if v["is_latest"]:
            latest_per_person[number] += 1
            status_counts[v["status"]] += 1
            if v["status"] == ResidentStatus.RESIDENT:
                households[v["household_number"]] += 1
                heads[v["household_number"]] += 1 if v["is_head"] else 0
        for attr, name, choices in (
            ("status", "住民状態", ResidentStatus.values),
            ("kind", "住民種別", ResidentKind.values),
            ("sex", "性別", Sex.values),
            ("kana_status", "氏名_フリガナ確認状況", KanaStatus.values),
        ):
            if v[attr] not in choices:
                reader.problem(line, name, v[attr], f"コードがありません（{'・'.join(choices)}）")
        codes = v["relation_codes"]
        if not isinstance(codes, list) or relation_problem(codes):
            reader.problem(
                line,
                "続柄コード",
                json.dumps(codes, ensure_ascii=False),
                relation_problem(codes if isinstance(codes, list) else [])
                or "続柄コードの配列が必要です",
            )
        if not v["name"]:
            reader.problem(line, "氏名", "", "氏名がありません")
        for prefix, name in (
            ("birth_date", "生年月日"),
            ("became_resident_on", "住民となった年月日"),
            ("address_set_on", "住所を定めた年月日"),
        ):
            _check_date(
                reader,
                line,
                name,
                v[prefix],
                v[f"{prefix}_unknown"],
                v[f"{prefix}_label"],
                required=prefix == "birth_date",
            )
        for attr, name in (
            ("effective_from", "適用年月日"),
            ("moved_out_planned_on", "転出予定年月日"),
            ("moved_out_on", "転出年月日（確定）"),
            ("removed_on", "消除の異動年月日"),
            ("move_in_notice_on", "転入通知年月日"),
        ):
            _check_date(reader, line, name, v[attr], False, "", required=attr == "effective_from")
    for number, line in persons.items():
        if latest_per_person[number] != 1:
            report.problems.append(
                Problem(
                    layout.RECORD_FILE,
                    0,
                    "最新フラグ",
                    number,
                    f"宛名番号 {number} の最新の記載が "
                    f"{latest_per_person[number]} 件です（1件のはず）",
                )
            )
        if seen.get(number, 0) != seqs.get(number):
            report.problems.append(
                Problem(
                    layout.PERSON_FILE,
                    line,
                    "最新履歴番号",
                    str(seqs.get(number)),
                    f"住民票履歴の最後の履歴番号 {seen.get(number, 0)} と一致しません",
                )
            )
    for household in sorted(households):
        if heads[household] != 1:
            report.problems.append(
                Problem(
                    layout.RECORD_FILE,
                    0,
                    "世帯主フラグ",
                    household,
                    f"世帯 {household} の世帯主が {heads[household]} 人です（1人のはず）",
                )
            )
    for name, _ in layout.FILES:
        info = manifest.get("files", {}).get(name, {})
        actual = {
            layout.PERSON_FILE: len(persons),
            layout.MOVEMENT_FILE: len(movements),
            layout.RECORD_FILE: rows,
        }[name]
        if info and info.get("rows") != actual:
            report.problems.append(
                Problem(
                    name,
                    0,
                    "rows",
                    str(actual),
                    f"manifest.json の件数 {info.get('rows')} と一致しません",
                )
            )
    report.source_counts = _summary(status_counts, households, len(persons), rows)


def _summary(
    status_counts: Tally[str], households: Tally[str], persons: int, records: int
) -> dict[str, Any]:
    return {
        "宛名": persons,
        "住民票履歴": records,
        "住民状態": {
            ResidentStatus(k).label if k in ResidentStatus.values else k: n
            for k, n in sorted(status_counts.items())
        },
        "世帯": len(households),
        "世帯人員": {str(k): n for k, n in sorted(Tally(households.values()).items())},
    }


def _db_summary() -> dict[str, Any]:
    latest = ResidentRecord.objects.filter(is_latest=True)
    status = Tally(dict(_group(latest, "status")))
    households = Tally(
        dict(_group(latest.filter(status=ResidentStatus.RESIDENT), "household_number"))
    )
    return _summary(status, households, Person.objects.count(), ResidentRecord.objects.count())


def _group(qs: Any, column: str) -> list[tuple[str, int]]:
    from django.db.models import Count

    return [(row[column], row["n"]) for row in qs.values(column).annotate(n=Count("id"))]


def _write(directory: Path, municipality: Municipality) -> None:
    """Pass 2: stream the (already validated) files into the database."""
    code = municipality.code
    persons: dict[str, int] = {}
    batch: list[Person] = []

    def flush_persons() -> None:
        Person.objects.bulk_create(batch)
        persons.update((p.address_number, p.pk) for p in batch)
        batch.clear()

    report = ImportReport(code, dry_run=False)
    for _, v in _Reader(report, directory, layout.PERSON_FILE, layout.PERSON_COLUMNS).rows():
        person = Person(
            municipality_id=municipality.pk,
            address_number=v["address_number"],
            resident_code=v["resident_code"],
            latest_seq=v["latest_seq"],
            created_at=v["created_at"],
        )
        if v["my_number"]:
            person.my_number_cipher = crypto.encrypt(
                v["my_number"], bound_to=f"{code}:{v['address_number']}"
            )
            person.my_number_index = crypto.blind_index(v["my_number"], scope=code)
        batch.append(person)
        if len(batch) >= BATCH:
            flush_persons()
    flush_persons()

    movements: dict[int, int] = {}
    links: list[tuple[int, int | None, int | None]] = []
    mbatch: list[Movement] = []

    def flush_movements() -> None:
        Movement.objects.bulk_create(mbatch)
        movements.update((m.number, m.pk) for m in mbatch)
        mbatch.clear()

    for _, v in _Reader(report, directory, layout.MOVEMENT_FILE, layout.MOVEMENT_COLUMNS).rows():
        data = {
            c.attr: v[c.attr]
            for c in layout.MOVEMENT_COLUMNS
            if c.attr not in ("cancels_number", "cancelled_by_number")
        }
        if data["notified_on"] == "":
            data["notified_on"] = None
        data["warnings"] = data["warnings"] or []
        mbatch.append(Movement(municipality_id=municipality.pk, **data))
        if v["cancels_number"] or v["cancelled_by_number"]:
            links.append((v["number"], v["cancels_number"], v["cancelled_by_number"]))
        if len(mbatch) >= BATCH:
            flush_movements()
    flush_movements()
    for number, cancels, cancelled_by in links:
        Movement.objects.filter(pk=movements[number]).update(
            cancels_id=movements[cancels] if cancels else None,
            cancelled_by_id=movements[cancelled_by] if cancelled_by else None,
        )

    rbatch: list[ResidentRecord] = []
    for _, v in _Reader(report, directory, layout.RECORD_FILE, layout.RECORD_COLUMNS).rows():
        data = {
            c.attr: v[c.attr]
            for c in layout.RECORD_COLUMNS
            if c.attr not in ("address_number", "movement_number")
        }
        data["qualifications"] = data["qualifications"] or {}
        data.update(_keys(data["name"], data["name_kana"], data["alias"]))
        rbatch.append(
            ResidentRecord(
                municipality_id=municipality.pk,
                person_id=persons[v["address_number"]],
                movement_id=movements[v["movement_number"]],
                **data,
            )
        )
        if len(rbatch) >= BATCH:
            ResidentRecord.objects.bulk_create(rbatch)
            rbatch.clear()
    ResidentRecord.objects.bulk_create(rbatch)
    _set_counters()


def _set_counters() -> None:
    """Continue numbering after the imported numbers (without their check digit)."""
    from django.db.models import Max

    highest = {
        "registry.movement": Movement.objects.aggregate(m=Max("number"))["m"] or 0,
        "registry.address_number": int(
            (Person.objects.aggregate(m=Max("address_number"))["m"] or "0")[:-1] or 0
        ),
        "registry.household": int(
            (ResidentRecord.objects.aggregate(m=Max("household_number"))["m"] or "0")[:-1] or 0
        ),
    }
    for name, value in highest.items():
        Counter.objects.update_or_create(name=name, defaults={"value": value})


def import_tenant(
    *, municipality: Municipality, directory: Path, dry_run: bool, purpose: str
) -> ImportReport:
    """Validate ``directory`` against the standard layout and, unless ``dry_run`` or invalid,
    import it into ``municipality`` (which must have no registry data yet)."""
    directory = Path(directory)
    report = ImportReport(municipality.code, dry_run)
    try:
        manifest = _check_manifest(report, directory, municipality)
        _validate(report, directory, manifest)
    except _Stop:
        pass
    with tenant_context(municipality):
        if Person.objects.exists():
            report.problems.append(
                Problem(
                    "",
                    0,
                    "",
                    municipality.code,
                    "取込先の団体にはすでに住民記録があります（空の団体にだけ取り込めます）",
                )
            )
    if not report.ok or dry_run:
        return report
    with tenant_context(municipality), transaction.atomic():
        _write(directory, municipality)
        report.imported_counts = _db_summary()
        audit_record(
            action=AuditAction.CREATE,
            target_type="registry_import",
            purpose=purpose,
            detail={"directory": str(directory), "counts": report.imported_counts},
        )
        emit(type="exchange.registry_imported", payload={"counts": report.imported_counts})
    report.written = True
    return report


# --- 外字 and legacy import ---------------------------------------------------------------------


def gaiji_table(*, vendor: str) -> dict[str, str]:
    """The current municipality's identified 外字 of ``vendor`` (code → replacement text)."""
    from moyai.exchange.models import LegacyGaiji

    return dict(LegacyGaiji.objects.filter(vendor=vendor).values_list("code", "replacement"))


@transaction.atomic
def gaiji_enqueue(
    *,
    vendor: str,
    unmapped: dict[str, tuple[str, int, str, str]],
    hints: dict[str, str],
    images: Path | None,
) -> int:
    """Put unmapped 外字 on the identification queue (once per vendor and code)."""
    from moyai.exchange.models import GaijiQueueItem

    added = 0
    for code, (file, line, target, value) in unmapped.items():
        image = None
        if images is not None and (images / f"{code}.png").is_file():
            image = (images / f"{code}.png").read_bytes()
        item, created = GaijiQueueItem.objects.get_or_create(
            vendor=vendor,
            code=code,
            defaults={
                "hint": hints.get(code, ""),
                "image": image,
                "example": value.replace(chr(int(code, 16)), "〓")[:300],
                "first_seen": f"{file}:{line} {target}",
            },
        )
        if created:
            added += 1
        else:
            GaijiQueueItem.objects.filter(pk=item.pk).update(occurrences=item.occurrences + 1)
    return added


@transaction.atomic
def gaiji_decide(
    *, vendor: str, code: str, replacement: str, mj_name: str = "", note: str = ""
) -> None:
    """外字の同定: record which character a vendor 外字 is; later imports reuse the decision."""
    from moyai.documents.pdf import unprintable_characters
    from moyai.exchange.models import GaijiQueueItem, LegacyGaiji
    from moyai.platform.audit import current_actor
    from moyai.platform.errors import ServiceError

    if not replacement or len(replacement) > 8:
        raise ServiceError("置き換える文字を入力してください", field="replacement")
    if any(0xE000 <= ord(c) <= 0xF8FF for c in replacement):
        raise ServiceError("外字（私用領域の文字）では置き換えられません", field="replacement")
    bad = unprintable_characters(replacement)
    if bad:
        raise ServiceError(
            f"IPAmj明朝で印字できない文字です: {'、'.join(bad)}", field="replacement"
        )
    LegacyGaiji.objects.update_or_create(
        vendor=vendor,
        code=code,
        defaults={
            "replacement": replacement,
            "mj_name": mj_name,
            "note": note,
            "decided_by": current_actor().username,
        },
    )
    GaijiQueueItem.objects.filter(vendor=vendor, code=code).update(resolved=True)
    audit_record(
        action=AuditAction.UPDATE,
        target_type="gaiji",
        target_id=f"{vendor}:{code}",
        purpose="外字の同定",
        detail={"replacement": replacement, "mj_name": mj_name},
    )


@dataclass
class LegacyImportResult:
    conversion_problems: list[Problem]
    queued: int
    report: ImportReport | None
    duplicates: list[str] = field(default_factory=list)


def legacy_import(
    *,
    municipality: Municipality,
    mapping_path: Path,
    directory: Path,
    workdir: Path,
    dry_run: bool,
    purpose: str,
) -> LegacyImportResult:
    """Convert a vendor's files with a mapping file, then validate/import the package."""
    from moyai.exchange import legacy

    mapping = legacy.load_mapping(mapping_path)
    with tenant_context(municipality):
        table = gaiji_table(vendor=mapping.vendor)
    conversion = legacy.convert(
        mapping=mapping,
        directory=directory,
        out=workdir,
        municipality_code=municipality.code,
        municipality_name=municipality.name,
        prefecture=municipality.prefecture,
        gaiji=table.get,
    )
    queued = 0
    if conversion.unmapped_gaiji:
        images = directory / mapping.gaiji_images if mapping.gaiji_images else None
        with tenant_context(municipality):
            queued = gaiji_enqueue(
                vendor=mapping.vendor,
                unmapped=conversion.unmapped_gaiji,
                hints=mapping.gaiji_hints,
                images=images,
            )
    if conversion.problems:
        return LegacyImportResult(conversion.problems, queued, None, conversion.duplicates)
    report = import_tenant(
        municipality=municipality, directory=workdir, dry_run=dry_run, purpose=purpose
    )
    report.warnings.extend(conversion.duplicates)
    if conversion.source_counts:
        report.source_counts["移行元の申告"] = conversion.source_counts
    return LegacyImportResult([], queued, report, conversion.duplicates)
