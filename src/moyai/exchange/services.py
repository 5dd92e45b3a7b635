"""標準レイアウトからの取込み: every row validated, then all of it written or nothing.

Import goes into a municipality that has no registry data yet. Every problem is collected with
its file, line, field, value and reason; with any problem (or ``dry_run``) nothing is written.
A real run is one transaction: a crash leaves nothing behind, so running it again cannot
duplicate anything. It ends with a reconciliation of the database against the files.

Memory stays flat however large the files are. Every file is read as a stream and must be in its
key order (宛名 by 宛名番号, 異動 by 異動番号, 住民票履歴 by 宛名番号 and 個人履歴番号), so a
duplicate shows against the previous row and 住民票履歴 is merge-joined with 宛名 while both are
read. 異動番号 references are checked against a bitmap, and the household counts of the
reconciliation are kept in a temporary on-disk SQLite table (the records are sorted by person,
not by 世帯). The database side of the reconciliation is counted by the database.

On PostgreSQL the rows are loaded while they are validated: the validation hands them over in
chunks (search keys and the 個人番号 ciphertext computed on the way) to a loader thread on the
same connection, which streams each chunk with ``COPY`` into a ``TEMP`` staging table and moves
it into the registry with ``INSERT … SELECT``, finding foreign keys by their numbers in the
database — all in the one transaction, under the tenant's row-level security (``COPY`` itself
cannot write to a table with row-level security), and rolled back if any problem turns up.
Elsewhere (SQLite) the validated files are written through the ORM in batches afterwards.
``docs/benchmarks.md`` has the figures.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import queue
import re
import secrets
import sqlite3
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from django.db.models import Count, Max, Model

from moyai.exchange import layout
from moyai.platform import crypto
from moyai.platform.audit import audit_record
from moyai.platform.models import AuditAction, Counter, Municipality
from moyai.platform.outbox import emit
from moyai.platform.tenancy import current_tenant, tenant_context
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


class _Abandon(Exception):
    """Leave the import's transaction without writing (problems were found)."""


MAX_PROBLEMS = 1000


def _add_problem(report: ImportReport, problem: Problem) -> None:
    report.problems.append(problem)
    if len(report.problems) >= MAX_PROBLEMS:
        raise _Stop


@lru_cache(maxsize=4096)
def _json_value(text: str) -> Any:
    """A JSON cell, decoded once per distinct text: the same few 続柄・資格・警告 values fill
    most rows. The value is shared between rows, so nothing may modify it."""
    return layout.decode(text, "json")


def _decode(text: str, kind: str) -> Any:
    """:func:`layout.decode` with fast paths for the common cells (same values and reasons)."""
    if kind == "bool":
        if text == "1":
            return True
        if text == "0":
            return False
    elif kind == "int":
        if text.isascii() and text.isdigit():
            return int(text)
    elif kind == "json":
        return _json_value(text)
    try:
        return layout.decode(text, kind)
    except layout.CellError:
        raise
    except ValueError:  # str.isdigit() admits digits int() does not read (e.g. "²")
        raise layout.CellError("数字で指定してください") from None


Row = dict[str, Any]


class _Reader:
    """Reads one standard-layout file, decoding cells and collecting problems."""

    def __init__(
        self, report: ImportReport, directory: Path, name: str, columns: tuple[layout.Column, ...]
    ) -> None:
        self.report = report
        self.path = directory / name
        self.name = name
        self.columns = columns
        self.limits = _length_limits(name, columns)

    def problem(self, line: int, field_name: str, value: str, reason: str) -> None:
        _add_problem(self.report, Problem(self.name, line, field_name, value, reason))

    def rows(self) -> Iterator[tuple[int, Row]]:
        for line, values, _ in self.rows_with_cells():
            yield line, values

    def rows_with_cells(self) -> Iterator[tuple[int, Row, list[str]]]:
        """(line, decoded values, the cells as read) of every row whose cells all decode."""
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
            attrs = [c.attr for c in self.columns]
            typed = [(i, c) for i, c in enumerate(self.columns) if c.kind != "text"]
            limits = self.limits
            width = len(self.columns)
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
                if len(cells) != width:
                    self.problem(line, "", "", f"列の数が {len(cells)} です（{width} 列が必要）")
                    continue
                values = dict(zip(attrs, cells, strict=True))
                good = True
                for i, column in typed:
                    try:
                        values[column.attr] = _decode(cells[i], column.kind)
                    except layout.CellError as exc:
                        self.problem(line, column.name, cells[i], str(exc))
                        good = False
                for i, column, limit in limits:
                    if len(cells[i]) > limit:
                        self.problem(
                            line,
                            column.name,
                            cells[i][:20] + "…",
                            f"{len(cells[i])}文字です（{limit}文字以内）",
                        )
                        good = False
                if good:
                    yield line, values, cells


@lru_cache(maxsize=8)
def _length_limits(
    name: str, columns: tuple[layout.Column, ...]
) -> tuple[tuple[int, layout.Column, int], ...]:
    """(index, column, max_length) of each text column stored in a length-limited field, so
    that a too-long value is reported with its line (SQLite would store it, PostgreSQL would
    fail the whole load without saying where)."""
    from moyai.exchange import tax

    models_by_file: dict[str, type[Model]] = {
        layout.PERSON_FILE: Person,
        layout.MOVEMENT_FILE: Movement,
        layout.RECORD_FILE: ResidentRecord,
        **tax.MODELS,
    }
    model = models_by_file.get(name)
    if model is None:
        return ()
    limits = []
    for i, column in enumerate(columns):
        try:
            field = model._meta.get_field(column.attr)
        except FieldDoesNotExist:
            continue
        max_length = getattr(field, "max_length", None)
        if column.kind == "text" and max_length:
            limits.append((i, column, int(max_length)))
    return tuple(limits)


def _date_problem(iso: str, unknown: bool, label: str) -> str | None:
    """Why a date cell is unreadable. The common well-formed case is decided here without
    building a :class:`FuzzyDate` (which accepts every such value); anything else goes through
    it for the exact reason."""
    if (
        len(iso) == 10
        and iso.isascii()
        and iso[4] == "-"
        and iso[7] == "-"
        and iso[:4].isdigit()
        and "01" <= iso[5:7] <= "12"
        and "01" <= iso[8:] <= "31"
        and iso[5:7].isdigit()
        and iso[8:].isdigit()
        and (not unknown or label.strip())
    ):
        return None
    try:
        FuzzyDate(iso, unknown, label)
    except ValueError as exc:
        return str(exc)
    return None


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
    problem = _date_problem(iso, unknown, label)
    if problem:
        reader.problem(line, column, iso, problem)


_CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _check_calendar_date(reader: _Reader, line: int, column: str, iso: str) -> None:
    """A date stored as a date (異動届出年月日): must be on the calendar."""
    if not iso:
        return
    try:
        if not _CALENDAR_DATE.fullmatch(iso):
            raise ValueError
        date.fromisoformat(iso)
    except ValueError:
        reader.problem(line, column, iso, "暦にある日付（YYYY-MM-DD）で指定してください")


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


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
    if (
        manifest.get("format") != layout.FORMAT
        or manifest.get("version") not in layout.READABLE_VERSIONS
    ):
        report.problems.append(
            Problem(
                "manifest.json",
                0,
                "format",
                f"{manifest.get('format')} {manifest.get('version')}",
                f"対応する形式は {layout.FORMAT} {'・'.join(layout.READABLE_VERSIONS)} です",
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
    if not isinstance(manifest.get("files"), dict):
        manifest["files"] = {}
    from moyai.exchange import tax

    for name, _ in layout.FILES + tuple(tax.listed(manifest)):
        info = manifest["files"].get(name)
        if not isinstance(info, dict):
            report.problems.append(
                Problem("manifest.json", 0, "files", name, "ファイルの記載がありません")
            )
            continue
        try:
            digest = _file_sha256(directory / name)
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


# --- bounded-memory bookkeeping -----------------------------------------------------------------


class _NumberSet:
    """A set of 異動番号: one bit per number up to ``BITMAP_LIMIT`` (numbers are issued from 1,
    so a million 異動 take 125 kB), a plain set for numbers beyond it (an absurd numbering range
    then costs memory per number instead of a huge bitmap)."""

    BITMAP_LIMIT = 1 << 27  # a bitmap of at most 16 MiB

    def __init__(self) -> None:
        self.bits = bytearray()
        self.sparse: set[int] = set()

    def add(self, number: int) -> None:
        if number >= self.BITMAP_LIMIT:
            self.sparse.add(number)
            return
        index = number >> 3
        if index >= len(self.bits):
            self.bits.extend(bytes(max(index + 1, 2 * len(self.bits)) - len(self.bits)))
        self.bits[index] |= 1 << (number & 7)

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int) or number < 0:
            return False
        if number >= self.BITMAP_LIMIT:
            return number in self.sparse
        index = number >> 3
        return index < len(self.bits) and bool(self.bits[index] >> (number & 7) & 1)

    def __iter__(self) -> Iterator[int]:
        for index, byte in enumerate(self.bits):
            if byte:
                for bit in range(8):
                    if byte >> bit & 1:
                        yield index * 8 + bit
        yield from sorted(self.sparse)


class _HouseholdTally:
    """Members and heads per 世帯 (latest entries of residents), counted outside Python's heap.

    住民票履歴 is sorted by person, so a household's members are scattered over the file and its
    count is only known at the end. A dict of every 世帯番号 would grow with the registry (about
    100 bytes a household); an array indexed by the number would need dense numeric 世帯番号,
    which legacy data does not promise. So the pairs go to a private temporary on-disk SQLite
    database (deleted on close; its page cache stays at SQLite's default 2 MB) and are grouped
    there: flat in memory for any numbering (+4 MiB), about 1.6 s per million members more than
    a dict, which grew by 58 MiB for 421,529 households (``docs/benchmarks.md``).
    """

    FLUSH = 10000

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = a private temporary database on disk
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE member (household TEXT NOT NULL, head INTEGER NOT NULL)")
        self.pending: list[tuple[str, int]] = []

    def add(self, household: str, head: bool) -> None:
        self.pending.append((household, 1 if head else 0))
        if len(self.pending) >= self.FLUSH:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO member VALUES (?, ?)", self.pending)
        self.pending.clear()

    def finish(self) -> None:
        self._flush()
        self.db.execute(
            "CREATE TABLE household AS SELECT household, count(*) AS members, "
            "sum(head) AS heads FROM member GROUP BY household"
        )
        self.db.execute("DROP TABLE member")

    def without_one_head(self) -> Iterator[tuple[str, int]]:
        """(世帯番号, number of heads) of every household whose heads are not exactly one."""
        yield from self.db.execute(
            "SELECT household, heads FROM household WHERE heads != 1 ORDER BY household"
        )

    def sizes(self) -> dict[int, int]:
        """Number of households by number of members."""
        rows = self.db.execute("SELECT members, count(*) FROM household GROUP BY members")
        return {int(members): int(n) for members, n in rows}

    def close(self) -> None:
        self.db.close()


class _UniqueKeys:
    """Values that must be unique across persons (住民票コード, 個人番号), checked with flat
    memory like :class:`_HouseholdTally`: (kind, keyed hash, line) rows in a private temporary
    SQLite table, grouped at the end. Only a hash under a key drawn for this run reaches the
    disk, never the number itself."""

    FLUSH = 10000

    def __init__(self) -> None:
        self.key = secrets.token_bytes(32)
        self.db = sqlite3.connect("")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE k (kind TEXT NOT NULL, h BLOB NOT NULL, line INTEGER)")
        self.pending: list[tuple[str, bytes, int]] = []

    def add(self, kind: str, value: str, line: int) -> None:
        digest = hashlib.blake2b(value.encode(), key=self.key, digest_size=16).digest()
        self.pending.append((kind, digest, line))
        if len(self.pending) >= self.FLUSH:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO k VALUES (?, ?, ?)", self.pending)
        self.pending.clear()

    def duplicates(self, limit: int = 1000) -> Iterator[tuple[str, list[int]]]:
        """(kind, lines) of each value found on more than one line, first lines first."""
        self._flush()
        rows = self.db.execute(
            "SELECT kind, group_concat(line) FROM (SELECT kind, h, line FROM k ORDER BY line) "
            "GROUP BY kind, h HAVING count(*) > 1 ORDER BY min(line) LIMIT ?",
            (limit,),
        )
        for kind, lines in rows:
            yield kind, [int(n) for n in lines.split(",")]

    def close(self) -> None:
        self.db.close()


# --- pass 1: validation -------------------------------------------------------------------------

Put = Callable[[Row, list[str]], None]


def _ignore(values: Row, cells: list[str]) -> None:
    pass


def _validate(
    report: ImportReport,
    directory: Path,
    manifest: dict[str, Any],
    stage: _Staging | None = None,
) -> None:
    """Pass 1: every row decoded and checked, file by file as a stream. With ``stage``, each row
    is also handed to the PostgreSQL loader as it is read (until a problem is found)."""
    persons = _validate_persons(report, directory, stage)
    movements, movement_count = _validate_movements(report, directory, stage)
    households = _HouseholdTally()
    try:
        records, status_counts = _validate_records(report, directory, movements, households, stage)
        households.finish()
        for household, heads in households.without_one_head():
            _add_problem(
                report,
                Problem(
                    layout.RECORD_FILE,
                    0,
                    "世帯主フラグ",
                    household,
                    f"世帯 {household} の世帯主が {heads} 人です（1人のはず）",
                ),
            )
        sizes = households.sizes()
    finally:
        households.close()
    for name, _ in layout.FILES:
        info = manifest.get("files", {}).get(name, {})
        actual = {
            layout.PERSON_FILE: persons,
            layout.MOVEMENT_FILE: movement_count,
            layout.RECORD_FILE: records,
        }[name]
        if info and info.get("rows") != actual:
            _add_problem(
                report,
                Problem(
                    name,
                    0,
                    "rows",
                    str(actual),
                    f"manifest.json の件数 {info.get('rows')} と一致しません",
                ),
            )
    report.source_counts = _summary(status_counts, sum(sizes.values()), sizes, persons, records)
    from moyai.exchange import tax

    report.source_counts["税務"] = tax.validate(report, directory, manifest)


@contextmanager
def _copying(stage: _Staging | None, name: str) -> Iterator[Put]:
    if stage is None:
        yield _ignore
    else:
        with stage.copy(name) as put:
            yield put


def _out_of_order(line: int, previous: str) -> str:
    return f"並び順が正しくありません（{line}行目の {previous} より後にあります）"


def _validate_persons(report: ImportReport, directory: Path, stage: _Staging | None) -> int:
    """宛名.csv; returns the number of persons (rows in 宛名番号 order)."""
    reader = _Reader(report, directory, layout.PERSON_FILE, layout.PERSON_COLUMNS)
    unique = _UniqueKeys()
    try:
        persons = _read_persons(reader, unique, stage)
        for kind, lines in unique.duplicates():
            others = "・".join(f"{n}行目" for n in lines[1:])
            reader.problem(lines[0], kind, "", f"{others}と重複しています（別の人に同じ番号）")
    finally:
        unique.close()
    return persons


def _read_persons(reader: _Reader, unique: _UniqueKeys, stage: _Staging | None) -> int:
    persons = 0
    last, last_line = "", 0
    with _copying(stage, layout.PERSON_FILE) as put:
        for line, v, cells in reader.rows_with_cells():
            number = v["address_number"]
            if m11_problem(number) or len(number) != NUMBER_WIDTH:
                reader.problem(
                    line, "宛名番号", number, "宛名番号（15桁・検査数字）が正しくありません"
                )
            if last_line and number == last:
                reader.problem(line, "宛名番号", number, f"{last_line}行目と重複しています")
            elif last_line and number < last:
                reader.problem(line, "宛名番号", number, _out_of_order(last_line, last))
            else:
                last, last_line = number, line
                persons += 1
            if v["my_number"] and my_number_problem(v["my_number"]):
                reader.problem(
                    line, "個人番号", v["my_number"], str(my_number_problem(v["my_number"]))
                )
            for column, attr in (("住民票コード", "resident_code"), ("個人番号", "my_number")):
                if v[attr]:
                    unique.add(column, v[attr], line)
            if v["latest_seq"] is None or v["latest_seq"] < 1:
                reader.problem(line, "最新履歴番号", str(v["latest_seq"]), "1以上の数字が必要です")
            put(v, cells)
    return persons


def _validate_movements(
    report: ImportReport, directory: Path, stage: _Staging | None
) -> tuple[_NumberSet, int]:
    """異動.csv; returns the 異動番号 and how many there are."""
    reader = _Reader(report, directory, layout.MOVEMENT_FILE, layout.MOVEMENT_COLUMNS)
    numbers = _NumberSet()
    referenced = _NumberSet()
    count = 0
    last, last_line = -1, 0
    links = (("cancels_number", "取消対象異動番号"), ("cancelled_by_number", "取消異動番号"))
    with _copying(stage, layout.MOVEMENT_FILE) as put:
        for line, v, cells in reader.rows_with_cells():
            number = v["number"]
            if number is None:
                reader.problem(line, "異動番号", "", "異動番号がありません")
                continue
            if number == last:
                reader.problem(line, "異動番号", str(number), "異動番号が重複しています")
            elif number < last:
                reader.problem(line, "異動番号", str(number), _out_of_order(last_line, str(last)))
            else:
                last, last_line = number, line
                count += 1
            numbers.add(number)
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
            _check_calendar_date(reader, line, "異動届出年月日", v["notified_on"])
            for attr, _ in links:
                if v[attr] is not None:
                    referenced.add(v[attr])
            put(v, cells)
    if any(number not in numbers for number in referenced):
        # Rare: read the file again to name the lines (the references are not kept).
        quiet = _Reader(ImportReport("", True), directory, reader.name, reader.columns)
        for line, v in quiet.rows():
            for attr, name in links:
                if v[attr] is not None and v[attr] not in numbers:
                    reader.problem(line, name, str(v[attr]), "その異動番号の異動がありません")
    return numbers, count


def _person_keys(directory: Path) -> Iterator[tuple[str, int, int]]:
    """(宛名番号, 最新履歴番号, line) of 宛名.csv in strictly increasing 宛名番号 order: the rows
    :func:`_validate_persons` counted (whatever it reported is not reported again)."""
    columns = layout.PERSON_COLUMNS
    seq_at = [c.attr for c in columns].index("latest_seq")
    last: str | None = None
    try:
        with (directory / layout.PERSON_FILE).open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            if next(reader, None) != [c.name for c in columns]:
                return
            for line, cells in enumerate(reader, start=2):
                if len(cells) != len(columns) or (last is not None and cells[0] <= last):
                    continue
                last = cells[0]
                seq = cells[seq_at]
                yield last, int(seq) if seq.isascii() and seq.isdigit() else 0, line
    except (OSError, UnicodeDecodeError, csv.Error):
        return


def _check_person(
    report: ImportReport, person: tuple[str, int, int], last: int, latest: int
) -> None:
    """A person's history once all its rows are read: one latest entry, 最新履歴番号 = last."""
    number, latest_seq, line = person
    if latest != 1:
        _add_problem(
            report,
            Problem(
                layout.RECORD_FILE,
                0,
                "最新フラグ",
                number,
                f"宛名番号 {number} の最新の記載が {latest} 件です（1件のはず）",
            ),
        )
    if last != latest_seq:
        _add_problem(
            report,
            Problem(
                layout.PERSON_FILE,
                line,
                "最新履歴番号",
                str(latest_seq),
                f"住民票履歴の最後の履歴番号 {last} と一致しません",
            ),
        )


_CHOICES = (
    ("status", "住民状態", frozenset(ResidentStatus.values), "・".join(ResidentStatus.values)),
    ("kind", "住民種別", frozenset(ResidentKind.values), "・".join(ResidentKind.values)),
    ("sex", "性別", frozenset(Sex.values), "・".join(Sex.values)),
    (
        "kana_status",
        "氏名_フリガナ確認状況",
        frozenset(KanaStatus.values),
        "・".join(KanaStatus.values),
    ),
)
_FUZZY_DATES = tuple(
    (attr, f"{attr}_unknown", f"{attr}_label", name, required)
    for attr, name, required in (
        ("birth_date", "生年月日", True),
        ("became_resident_on", "住民となった年月日", False),
        ("address_set_on", "住所を定めた年月日", False),
    )
)
_PLAIN_DATES = (
    ("effective_from", "適用年月日", True),
    ("moved_out_planned_on", "転出予定年月日", False),
    ("moved_out_on", "転出年月日（確定）", False),
    ("removed_on", "消除の異動年月日", False),
    ("move_in_notice_on", "転入通知年月日", False),
)


@lru_cache(maxsize=1024)
def _relation_problem(text: str) -> str | None:
    """Why a 続柄コード cell is wrong, per distinct text (there are few)."""
    codes = _json_value(text)
    if not isinstance(codes, list):
        return relation_problem([]) or "続柄コードの配列が必要です"
    return relation_problem(codes)


def _validate_records(
    report: ImportReport,
    directory: Path,
    movements: _NumberSet,
    households: _HouseholdTally,
    stage: _Staging | None,
) -> tuple[int, Tally[str]]:
    """住民票履歴.csv, merge-joined with 宛名.csv; returns the row count and the 住民状態 of the
    latest entries (and fills ``households``)."""
    reader = _Reader(report, directory, layout.RECORD_FILE, layout.RECORD_COLUMNS)
    status_counts: Tally[str] = Tally()
    rows = 0
    people = _person_keys(directory)
    waiting = next(people, None)  # the next person of 宛名.csv not yet met in 住民票履歴.csv
    person: tuple[str, int, int] | None = None  # the person of the current group of rows
    group: str | None = None  # 宛名番号 of the current group
    last_seq = 0  # 個人履歴番号 of the group's previous row
    latest = 0  # 最新 rows in the group
    high: tuple[str, int] = ("", -1)  # greatest key so far
    high_line = 0
    with _copying(stage, layout.RECORD_FILE) as put:
        for line, v, cells in reader.rows_with_cells():
            rows += 1
            number = v["address_number"]
            key = (number, v["seq"] or 0)
            if high_line and key <= high:
                name, value = (
                    ("宛名番号", number) if number != high[0] else ("個人履歴番号", str(key[1]))
                )
                reason = (
                    f"宛名番号・個人履歴番号が {high_line}行目と重複しています"
                    if key == high
                    else _out_of_order(high_line, f"{high[0]}・{high[1]}")
                )
                reader.problem(line, name, value, reason)
            else:
                high, high_line = key, line
                if number != group:
                    if person is not None:
                        _check_person(report, person, last_seq, latest)
                    while waiting is not None and waiting[0] < number:
                        _check_person(report, waiting, 0, 0)  # no history at all
                        waiting = next(people, None)
                    person = None
                    if waiting is not None and waiting[0] == number:
                        person, waiting = waiting, next(people, None)
                    group, last_seq, latest = number, 0, 0
                if person is None:
                    reader.problem(line, "宛名番号", number, "宛名.csv にない宛名番号です")
                if v["seq"] != last_seq + 1:
                    reader.problem(
                        line,
                        "個人履歴番号",
                        str(v["seq"]),
                        f"履歴番号は1から連続します（{last_seq + 1} のはず）",
                    )
                last_seq = v["seq"] or 0
                if v["is_latest"]:
                    latest += 1
                    status_counts[v["status"]] += 1
                    if v["status"] == ResidentStatus.RESIDENT:
                        households.add(v["household_number"], v["is_head"])
            if v["movement_number"] not in movements:
                reader.problem(
                    line, "異動番号", str(v["movement_number"]), "異動.csv にない異動番号です"
                )
            for attr, name, choices, listed in _CHOICES:
                if v[attr] not in choices:
                    reader.problem(line, name, v[attr], f"コードがありません（{listed}）")
            problem = _relation_problem(cells[_RELATION_AT])
            if problem:
                reader.problem(line, "続柄コード", _relation_text(v["relation_codes"]), problem)
            if not v["name"]:
                reader.problem(line, "氏名", "", "氏名がありません")
            for attr, unknown, label, name, required in _FUZZY_DATES:
                _check_date(reader, line, name, v[attr], v[unknown], v[label], required=required)
            for attr, name, required in _PLAIN_DATES:
                _check_date(reader, line, name, v[attr], False, "", required=required)
            put(v, cells)
    if person is not None:
        _check_person(report, person, last_seq, latest)
    while waiting is not None:
        _check_person(report, waiting, 0, 0)
        waiting = next(people, None)
    return rows, status_counts


_RELATION_AT = [c.attr for c in layout.RECORD_COLUMNS].index("relation_codes")


def _relation_text(codes: Any) -> str:
    return json.dumps(codes, ensure_ascii=False)


def _summary(
    status_counts: Mapping[str, int],
    households: int,
    sizes: Mapping[int, int],
    persons: int,
    records: int,
) -> dict[str, Any]:
    return {
        "宛名": persons,
        "住民票履歴": records,
        "住民状態": {
            ResidentStatus(k).label if k in ResidentStatus.values else k: n
            for k, n in sorted(status_counts.items())
        },
        "世帯": households,
        "世帯人員": {str(k): n for k, n in sorted(sizes.items())},
    }


def _db_summary() -> dict[str, Any]:
    """The reconciliation counted by the database (no per-household data comes to Python)."""
    latest = ResidentRecord.objects.filter(is_latest=True)
    status: Tally[str] = Tally(
        {row["status"]: row["n"] for row in latest.values("status").annotate(n=Count("id"))}
    )
    table = connection.ops.quote_name(ResidentRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT members, COUNT(*) FROM (SELECT COUNT(*) AS members "  # noqa: S608 - table name only
            f"FROM {table} WHERE municipality_id = %s AND is_latest = %s AND status = %s "
            "GROUP BY household_number) AS households GROUP BY members",
            [current_tenant().id, True, ResidentStatus.RESIDENT.value],
        )
        sizes = {int(members): int(n) for members, n in cursor.fetchall()}
    return _summary(
        status, sum(sizes.values()), sizes, Person.objects.count(), ResidentRecord.objects.count()
    )


# --- pass 2, generic: the ORM in batches --------------------------------------------------------


def _batched(rows: Iterable[tuple[int, Row]], size: int = BATCH) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for _, values in rows:
        chunk.append(values)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _ids(model: type[Model], field_name: str, values: set[Any]) -> dict[Any, int]:
    """Primary keys of the current tenant's rows with these numbers (one query per batch)."""
    rows = model._default_manager.filter(**{f"{field_name}__in": values})
    return dict(rows.values_list(field_name, "pk"))


def _write(directory: Path, municipality: Municipality) -> None:
    """Pass 2 on databases without the staging path: stream the (already validated) files into
    the database in batches; each batch looks up the ids it refers to, so no map of the whole
    registry is kept."""
    code = municipality.code
    report = ImportReport(code, dry_run=False)

    def read(name: str, columns: tuple[layout.Column, ...]) -> Iterator[tuple[int, Row]]:
        return _Reader(report, directory, name, columns).rows()

    for chunk in _batched(read(layout.PERSON_FILE, layout.PERSON_COLUMNS)):
        people = []
        for v in chunk:
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
            people.append(person)
        Person.objects.bulk_create(people)

    links = ("cancels_number", "cancelled_by_number")
    for chunk in _batched(read(layout.MOVEMENT_FILE, layout.MOVEMENT_COLUMNS)):
        movements = []
        for v in chunk:
            data = {c.attr: v[c.attr] for c in layout.MOVEMENT_COLUMNS if c.attr not in links}
            if data["notified_on"] == "":
                data["notified_on"] = None
            data["warnings"] = data["warnings"] or []
            movements.append(Movement(municipality_id=municipality.pk, **data))
        Movement.objects.bulk_create(movements)
    linked = (
        (line, v)
        for line, v in read(layout.MOVEMENT_FILE, layout.MOVEMENT_COLUMNS)
        if v["cancels_number"] or v["cancelled_by_number"]
    )
    for chunk in _batched(linked):
        ids = _ids(Movement, "number", {v[a] for v in chunk for a in ("number", *links) if v[a]})
        for v in chunk:
            Movement.objects.filter(pk=ids[v["number"]]).update(
                cancels_id=ids[v["cancels_number"]] if v["cancels_number"] else None,
                cancelled_by_id=ids[v["cancelled_by_number"]] if v["cancelled_by_number"] else None,
            )

    skip = ("address_number", "movement_number")
    for chunk in _batched(read(layout.RECORD_FILE, layout.RECORD_COLUMNS)):
        persons = _ids(Person, "address_number", {v["address_number"] for v in chunk})
        numbers = _ids(Movement, "number", {v["movement_number"] for v in chunk})
        records = []
        for v in chunk:
            data = {c.attr: v[c.attr] for c in layout.RECORD_COLUMNS if c.attr not in skip}
            data["qualifications"] = data["qualifications"] or {}
            data.update(_keys(data["name"], data["name_kana"], data["alias"]))
            records.append(
                ResidentRecord(
                    municipality_id=municipality.pk,
                    person_id=persons[v["address_number"]],
                    movement_id=numbers[v["movement_number"]],
                    **data,
                )
            )
        ResidentRecord.objects.bulk_create(records)


# --- pass 2, PostgreSQL: COPY into staging tables, then INSERT … SELECT -------------------------


@lru_cache(maxsize=4096)
def _json_text(text: str, default: str) -> str:
    """The JSON the ORM would store for a cell (``default`` for an empty or falsy value)."""
    value = _json_value(text)
    return json.dumps(value) if value else default


def _column(model: type[Model], attr: str) -> str:
    field = model._meta.get_field(attr)
    assert isinstance(field, models.Field)
    return str(field.column)


_PG_TYPES = {
    "text": "text",
    "int": "bigint",
    "bool": "boolean",
    "json": "jsonb",
    "datetime": "timestamptz",
}


def _can_stage() -> bool:
    """Whether the fast path applies: PostgreSQL, and the (application) role may create
    ``TEMP`` tables (every role may unless ``TEMPORARY`` was revoked from ``PUBLIC``)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(current_database(), 'TEMPORARY')")
        row = cursor.fetchone()
    return bool(row and row[0])


class _Staging:
    """The PostgreSQL load, pipelined with the validation.

    The validation hands each file's rows over as it reads them (search keys and the 個人番号
    ciphertext are computed here), ``CHUNK`` rows at a time. A loader thread — on the same
    connection, so in the same transaction and tenant — ``COPY``s each chunk into a ``TEMP``
    staging table (``COPY`` cannot write to a table under row-level security) and moves it into
    the registry table with ``INSERT … SELECT``, which finds the person and 異動 ids by their
    numbers with an index lookup per row (no Python map of ids; no plan that depends on table
    statistics, which a bulk load leaves stale). Python validating the next chunk and PostgreSQL
    maintaining the indexes of this one then use the two cores at once. The queue holds one
    chunk, so memory stays at about three chunks however large the files are.

    The registry's foreign keys (deferred to commit by default) are checked per statement while
    the loader runs, inside the pipeline. A problem found by the validation stops the hand-over
    and the caller rolls the transaction back: nothing is written.
    """

    CHUNK = 10000
    PERSON = "moyai_import_person"
    MOVEMENT = "moyai_import_movement"
    LINK = "moyai_import_link"
    RECORD = "moyai_import_record"
    KEYS = ("name_key", "kana_key", "alias_key")
    LINKS = ("cancels_number", "cancelled_by_number")

    def __init__(self, report: ImportReport, municipality: Municipality) -> None:
        self.report = report
        self.municipality = municipality
        self.code = municipality.code
        self.rows = {layout.PERSON_FILE: 0, layout.MOVEMENT_FILE: 0, layout.RECORD_FILE: 0}
        self.seconds: dict[str, float] = {}  # the loader's time per step (read by benchmarks)
        self.tables: dict[str, tuple[str, list[tuple[str, str]]]] = {
            layout.PERSON_FILE: (
                self.PERSON,
                [
                    ("address_number", "text"),
                    ("resident_code", "text"),
                    ("my_number_cipher", "text"),
                    ("my_number_index", "text"),
                    ("latest_seq", "bigint"),
                    ("created_at", "timestamptz"),
                ],
            ),
            layout.MOVEMENT_FILE: (
                self.MOVEMENT,
                [
                    (c.attr, "date" if c.attr == "notified_on" else _PG_TYPES[c.kind])
                    for c in layout.MOVEMENT_COLUMNS
                ],
            ),
            layout.RECORD_FILE: (
                self.RECORD,
                [(c.attr, _PG_TYPES[c.kind]) for c in layout.RECORD_COLUMNS]
                + [(key, "text") for key in self.KEYS],
            ),
        }
        self.transforms: dict[str, Callable[[Row, list[str]], list[Any]]] = {
            layout.PERSON_FILE: self._person,
            layout.MOVEMENT_FILE: self._movement,
            layout.RECORD_FILE: self._record,
        }
        self.statements = self._statements()
        movement_attrs = [c.attr for c in layout.MOVEMENT_COLUMNS]
        record_attrs = [c.attr for c in layout.RECORD_COLUMNS]
        self._m_number = movement_attrs.index("number")
        self._m_processed = movement_attrs.index("processed_at")
        self._m_warnings = movement_attrs.index("warnings")
        self._m_links = [(movement_attrs.index(a), a) for a in self.LINKS]
        self._r_ints = [(i, c.attr) for i, c in enumerate(layout.RECORD_COLUMNS) if c.kind == "int"]
        self._r_relation = record_attrs.index("relation_codes")
        self._r_qualifications = record_attrs.index("qualifications")
        self._r_name = record_attrs.index("name")
        self._r_kana = record_attrs.index("name_kana")
        self._r_alias = record_attrs.index("alias")
        self._jobs: queue.Queue[tuple[str, bytes, int] | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread: threading.Thread | None = None
        self._deferred: list[str] = []

    # The SQL (only identifiers of this module and of the models are formatted in).

    def _statements(self) -> dict[str, list[tuple[str, str]]]:
        """Per file, the (step, statement) list that moves one staged chunk; "%(m)s" is the
        municipality."""
        person = Person._meta.db_table
        movement = Movement._meta.db_table
        record = ResidentRecord._meta.db_table
        movement_columns = [
            (c.attr, _column(Movement, c.attr))
            for c in layout.MOVEMENT_COLUMNS
            if c.attr not in self.LINKS
        ]
        record_columns = [
            (attr, _column(ResidentRecord, attr))
            for attr, _ in self.tables[layout.RECORD_FILE][1]
            if attr not in ("address_number", "movement_number")
        ]
        links = ", ".join(
            f"{column} = (SELECT t.id FROM {movement} AS t "  # noqa: S608
            f"WHERE t.municipality_id = %(m)s AND t.number = s.{link})"
            for link, column in zip(self.LINKS, ("cancels_id", "cancelled_by_id"), strict=True)
        )
        return {
            layout.PERSON_FILE: [
                (
                    "insert 宛名",
                    f"INSERT INTO {person} (municipality_id, address_number, resident_code, "  # noqa: S608
                    "my_number_cipher, my_number_index, latest_seq, created_at) "
                    "SELECT %(m)s, address_number, resident_code, my_number_cipher, "
                    f"my_number_index, latest_seq, created_at FROM {self.PERSON}",
                ),
            ],
            layout.MOVEMENT_FILE: [
                (
                    "insert 異動",
                    f"INSERT INTO {movement} (municipality_id, "  # noqa: S608
                    f"{', '.join(column for _, column in movement_columns)}) "
                    f"SELECT %(m)s, {', '.join(attr for attr, _ in movement_columns)} "
                    f"FROM {self.MOVEMENT}",
                ),
                (
                    "keep 取消の関係",
                    f"INSERT INTO {self.LINK} SELECT number, {', '.join(self.LINKS)} "  # noqa: S608
                    f"FROM {self.MOVEMENT} WHERE "
                    + " OR ".join(f"{link} IS NOT NULL" for link in self.LINKS),
                ),
            ],
            layout.RECORD_FILE: [
                (
                    "insert 住民票履歴",
                    f"INSERT INTO {record} (municipality_id, person_id, movement_id, "  # noqa: S608
                    f"{', '.join(column for _, column in record_columns)}) "
                    f"SELECT %(m)s, (SELECT p.id FROM {person} AS p WHERE "
                    "p.municipality_id = %(m)s AND p.address_number = s.address_number), "
                    f"(SELECT v.id FROM {movement} AS v WHERE "
                    "v.municipality_id = %(m)s AND v.number = s.movement_number), "
                    f"{', '.join(f's.{attr}' for attr, _ in record_columns)} "
                    f"FROM {self.RECORD} AS s",
                ),
            ],
            "links": [
                (
                    "update 取消の関係",
                    f"UPDATE {movement} AS m SET {links} FROM {self.LINK} AS s "  # noqa: S608
                    "WHERE m.municipality_id = %(m)s AND m.number = s.number",
                ),
            ],
        }

    def _copy_statement(self, name: str) -> str:
        table, columns = self.tables[name]
        text = ", ".join(c for c, kind in columns if kind == "text")
        return (
            f"COPY {table} ({', '.join(c for c, _ in columns)}) FROM STDIN "
            f"(FORMAT csv, FORCE_NOT_NULL ({text}))"
        )

    # Rows as the staging tables take them (CSV for COPY: empty = NULL except in text columns).

    def _person(self, v: Row, cells: list[str]) -> list[Any]:
        number = v["address_number"]
        cipher = index = ""
        if v["my_number"]:
            cipher = crypto.encrypt(v["my_number"], bound_to=f"{self.code}:{number}")
            index = crypto.blind_index(v["my_number"], scope=self.code)
        return [
            number,
            v["resident_code"],
            cipher,
            index,
            v["latest_seq"],
            v["created_at"].isoformat(),
        ]

    def _movement(self, v: Row, cells: list[str]) -> list[Any]:
        row: list[Any] = list(cells)
        row[self._m_number] = v["number"]
        row[self._m_processed] = v["processed_at"].isoformat()
        row[self._m_warnings] = _json_text(cells[self._m_warnings], "[]")
        for i, attr in self._m_links:
            row[i] = v[attr]
        return row

    def _record(self, v: Row, cells: list[str]) -> list[Any]:
        row: list[Any] = list(cells)
        for i, attr in self._r_ints:
            row[i] = v[attr]
        row[self._r_relation] = _json_text(cells[self._r_relation], "[]")
        row[self._r_qualifications] = _json_text(cells[self._r_qualifications], "{}")
        keys = _keys(cells[self._r_name], cells[self._r_kana], cells[self._r_alias])
        row.extend(keys[k] for k in self.KEYS)
        return row

    # The main thread's side.

    def start(self) -> None:
        """Create the staging tables and start the loader (inside the import's transaction)."""
        person, movement, record = (m._meta.db_table for m in (Person, Movement, ResidentRecord))
        with connection.cursor() as cursor:
            for table, columns in self.tables.values():
                cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{table}")
                cursor.execute(
                    f"CREATE TEMP TABLE {table} "
                    f"({', '.join(f'{name} {kind}' for name, kind in columns)}) ON COMMIT DROP"
                )
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{self.LINK}")
            cursor.execute(
                f"CREATE TEMP TABLE {self.LINK} (number bigint, "
                f"{', '.join(f'{link} bigint' for link in self.LINKS)}) ON COMMIT DROP"
            )
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' AND condeferred "
                "AND conrelid IN (%s::regclass, %s::regclass, %s::regclass) ORDER BY conname",
                [person, movement, record],
            )
            self._deferred = [connection.ops.quote_name(name) for (name,) in cursor.fetchall()]
            if self._deferred:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self._deferred)} IMMEDIATE")
        self._raw = connection.connection
        self._thread = threading.Thread(target=self._work, name="moyai-import", daemon=True)
        self._thread.start()

    @contextmanager
    def copy(self, name: str) -> Iterator[Put]:
        """A function that stages one row of file ``name``; a no-op once any problem is known
        (nothing will be written then)."""
        transform = self.transforms[name]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        pending = 0
        report = self.report

        def put(values: Row, cells: list[str]) -> None:
            nonlocal pending
            if report.problems:
                return
            writer.writerow(transform(values, cells))
            pending += 1
            if pending >= self.CHUNK:
                self._hand_over(name, buffer, pending)
                pending = 0

        yield put
        if pending and not report.problems:
            self._hand_over(name, buffer, pending)

    def _hand_over(self, name: str, buffer: io.StringIO, rows: int) -> None:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        self._raise()
        self._jobs.put((name, data, rows))  # waits while the loader is a chunk behind

    def _raise(self) -> None:
        """Re-raise in the main thread what the loader raised (database errors as Django's)."""
        if self._error is not None:
            error = self._error
            with connection.wrap_database_errors:
                raise error

    def finish(self) -> None:
        """Wait for the last chunk, then link the 異動 (取消) and restore deferred checking."""
        self._jobs.put(("links", b"", 0))
        self._stop()
        self._raise()
        with connection.cursor() as cursor:
            if self._deferred:
                cursor.execute(f"SET CONSTRAINTS {', '.join(self._deferred)} DEFERRED")
            for table, _ in self.tables.values():
                cursor.execute(f"DROP TABLE {table}")
            cursor.execute(f"DROP TABLE {self.LINK}")

    def stop(self) -> None:
        """Stop the loader without loading what is still queued (before a rollback)."""
        self._abandoned = True
        self._stop()

    def _stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    # The loader thread's side.

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is not None and self._error is None and not self._abandoned:
                    self._load(*job)
            except BaseException as exc:  # handed to the main thread by _raise
                self._error = exc
            finally:
                self._jobs.task_done()
            if job is None:
                return

    def _load(self, name: str, data: bytes, rows: int) -> None:
        params = {"m": self.municipality.pk}
        with self._raw.cursor() as cursor:
            if name != "links":
                start = time.perf_counter()
                with cursor.copy(self._copy_statement(name)) as copy:
                    copy.write(data)
                self._time(f"copy {self.tables[name][0]}", start)
            for step, statement in self.statements[name]:
                start = time.perf_counter()
                cursor.execute(statement, params)
                self._time(step, start)
            if name != "links":
                cursor.execute(f"TRUNCATE {self.tables[name][0]}")
                self.rows[name] += rows

    def _time(self, step: str, start: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - start


# --- the import ---------------------------------------------------------------------------------


def _set_counters() -> None:
    """Continue numbering after the imported numbers (without their check digit)."""
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


def _occupied(municipality: Municipality) -> Problem | None:
    """Why the target is not empty (registry or 税務 data), if it is not."""
    from moyai.exchange import tax

    if Person.objects.exists():
        what = "住民記録"
    elif tax.has_data():
        what = "税務の宛名・台帳"
    else:
        return None
    return Problem(
        "",
        0,
        "",
        municipality.code,
        f"取込先の団体にはすでに{what}があります（空の団体にだけ取り込めます）",
    )


def _finish(report: ImportReport, directory: Path, purpose: str) -> None:
    """After the rows are in: numbering, reconciliation, audit and event (same transaction).
    (The 税務宛名番号 continue by themselves: the next is the highest plus one.)"""
    from moyai.exchange import tax

    _set_counters()
    report.imported_counts = _db_summary()
    report.imported_counts["税務"] = tax.counts_in_database()
    audit_record(
        action=AuditAction.CREATE,
        target_type="registry_import",
        purpose=purpose,
        detail={"directory": str(directory), "counts": report.imported_counts},
    )
    emit(type="exchange.registry_imported", payload={"counts": report.imported_counts})


def _import_staged(
    report: ImportReport, directory: Path, municipality: Municipality, purpose: str
) -> ImportReport:
    """The PostgreSQL path: validation and load in one pipelined pass (see :class:`_Staging`),
    all in one transaction, which any problem abandons."""
    from moyai.exchange import tax

    occupied: Problem | None = None
    loaded = False
    try:
        with tenant_context(municipality):
            occupied = _occupied(municipality)
            stage = _Staging(report, municipality) if occupied is None else None
            try:
                if stage is not None:
                    stage.start()
                manifest = _check_manifest(report, directory, municipality)
                _validate(report, directory, manifest, stage)
                if stage is None or not report.ok:
                    raise _Abandon
                stage.finish()
            finally:
                if stage is not None:
                    stage.stop()  # the loader is done before the transaction ends either way
            tax.write(directory, municipality, manifest)  # after the registry, through the ORM
            _finish(report, directory, purpose)
            loaded = True
    except (_Stop, _Abandon):  # the transaction was rolled back
        pass
    if occupied is not None:
        report.problems.append(occupied)
    report.written = loaded
    return report


def import_tenant(
    *, municipality: Municipality, directory: Path, dry_run: bool, purpose: str
) -> ImportReport:
    """Validate ``directory`` against the standard layout and, unless ``dry_run`` or invalid,
    import it into ``municipality`` (which must have no registry data yet)."""
    directory = Path(directory)
    report = ImportReport(municipality.code, dry_run)
    if not dry_run and _can_stage():
        return _import_staged(report, directory, municipality, purpose)
    manifest: dict[str, Any] = {}
    try:
        manifest = _check_manifest(report, directory, municipality)
        _validate(report, directory, manifest)
    except _Stop:
        pass
    with tenant_context(municipality):
        occupied = _occupied(municipality)
        if occupied is not None:
            report.problems.append(occupied)
    if not report.ok or dry_run:
        return report
    from moyai.exchange import tax

    with tenant_context(municipality):
        _write(directory, municipality)
        tax.write(directory, municipality, manifest)
        _finish(report, directory, purpose)
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
