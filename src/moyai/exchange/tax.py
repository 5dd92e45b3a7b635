"""標準レイアウト 1.1 の税務ファイル: 税務宛名・共有者・送付先, 固定資産課税台帳 (土地・家屋・
償却資産の申告) and the 軽自動車 ledger — export, validation and (ORM) import.

References are by business keys, never database ids: 宛名番号 (住民記録), 税務宛名番号, and for
the 異動前の行 of a ledger row the 行番号 — the row's position in its file, which lists the rows
in the order they were registered (a predecessor is always registered, so listed, before its
successors). Every version (``valid_from``/``valid_to``, 名義変更, 修正申告) is exported.

Assessments (賦課) are not exported: they are derived from the ledgers and the 税率等 and stored
with their inputs only to explain them; the importing side recomputes them (``assessment_run``).

The files are small next to the registry (one row per 宛名 or ledger version, no history per
異動), so the validation keeps a few per-row facts: the 税務宛名番号 as a bitmap, the 共有 groups
and the residents' 宛名番号 (checked against 住民記録/宛名.csv at the end) in dicts, and the
write keeps one id (8 bytes) per ledger row to link 異動前の行.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from django.db.models import Count, Model

from moyai.exchange import layout
from moyai.exchange.selectors import _encoder, _pages
from moyai.exchange.services import (
    BATCH,
    ImportReport,
    Problem,
    Row,
    _add_problem,
    _batched,
    _ids,
    _NumberSet,
    _out_of_order,
    _person_keys,
    _Reader,
    _UniqueKeys,
)
from moyai.platform.models import Municipality
from moyai.platform.rules import corporate_number_problem
from moyai.registry.models import Person
from moyai.tax.addressees.models import Addressee, AddresseeKind, Business, ContactRole, CoOwner
from moyai.tax.common.rules import RuleInputError
from moyai.tax.light_vehicle import rules as vehicle_rules
from moyai.tax.light_vehicle.models import LightVehicle, Release
from moyai.tax.property import rules as property_rules
from moyai.tax.property.models import (
    AssetDeclaration,
    Building,
    Change,
    HouseKind,
    LandUse,
    Parcel,
    Structure,
)
from moyai.tax.property.services import _PRIOR_KEYS, house_mapping_of, land_mapping_of

MODELS: dict[str, type[Model]] = {
    layout.ADDRESSEE_FILE: Addressee,
    layout.CO_OWNER_FILE: CoOwner,
    layout.PARCEL_FILE: Parcel,
    layout.BUILDING_FILE: Building,
    layout.ASSET_FILE: AssetDeclaration,
    layout.VEHICLE_FILE: LightVehicle,
}

_TAX_NUMBER = re.compile(r"T[0-9]{9}")
_POSTAL = re.compile(r"[0-9]{7}")
_BIRTH = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SMALL = 2**31 - 1  # PositiveIntegerField and smaller
_BIG = 2**62  # BigIntegerField (評価額・地積・課税標準額), with room to add
_BIG_ATTRS = frozenset(
    {
        "assessed_value",
        "declared_base",
        "area",
        "small_residential_area",
        "general_residential_area",
        "floor_area",
        "residential_area",
    }
)
_CONTACT_LIMITS = (("name", "氏名又は名称", 200), ("address", "住所", 300))


def listed(manifest: dict[str, Any]) -> list[tuple[str, tuple[layout.Column, ...]]]:
    """The 税務 files a package holds (all of them in a 1.1 export; none in a 1.0 package)."""
    files = manifest.get("files", {})
    return [(name, columns) for name, columns in layout.TAX_FILES if name in files]


# --- export ---------------------------------------------------------------------------------------


def _numbers(ids: set[int]) -> dict[int, str]:
    """税務宛名番号 by id."""
    if not ids:
        return {}
    return dict(Addressee.objects.filter(pk__in=ids).values_list("pk", "number"))


def _addressee_pages() -> Iterator[list[list[str]]]:
    cells = _encoder(layout.ADDRESSEE_COLUMNS)
    links = {"address_number": "person_id", "representative_number": "representative_id"}
    fields = [links.get(c.attr, c.attr) for c in layout.ADDRESSEE_COLUMNS]
    person_at = fields.index("person_id")
    rep_at = fields.index("representative_id")
    for page in _pages(Addressee.objects.all(), "number", fields):
        persons = {r[person_at] for r in page if r[person_at] is not None}
        numbers = dict(Person.objects.filter(pk__in=persons).values_list("pk", "address_number"))
        reps = _numbers({r[rep_at] for r in page if r[rep_at] is not None})
        rows = []
        for r in page:
            values = list(r)
            values[person_at] = numbers.get(r[person_at]) if r[person_at] else None
            values[rep_at] = reps.get(r[rep_at]) if r[rep_at] else None
            rows.append(cells(values))
        yield rows


def _co_owner_pages() -> Iterator[list[list[str]]]:
    cells = _encoder(layout.CO_OWNER_COLUMNS)
    groups = Addressee.objects.filter(kind=AddresseeKind.CO_OWNERS)
    for page in _pages(groups, "number", ("pk", "number")):
        number = dict(page)
        found = sorted(
            (number[g], m, a, b)
            for g, m, a, b in CoOwner.objects.filter(group_id__in=number).values_list(
                "group_id", "member__number", "share_numerator", "share_denominator"
            )
        )
        yield [cells(row) for row in found]


def _contact_pages() -> Iterator[list[list[str]]]:
    cells = _encoder(layout.CONTACT_COLUMNS)
    for page in _pages(Addressee.objects.all(), "number", ("number", "contacts")):
        rows = []
        for number, contacts in page:
            for business in sorted(contacts or {}):
                for role in sorted(contacts[business] or {}):
                    entry = contacts[business][role]
                    if entry:
                        rows.append(
                            cells(
                                (
                                    number,
                                    business,
                                    role,
                                    entry.get("name", ""),
                                    entry.get("address", ""),
                                    entry.get("postal_code", ""),
                                )
                            )
                        )
        yield rows


def _ledger_pages(
    model: type[Model], columns: tuple[layout.Column, ...]
) -> Iterator[list[list[str]]]:
    """Ledger rows in the order they were registered, numbered 1, 2, … (行番号); the 異動前の行
    (ids) become 行番号 through the ids already listed (a sorted array, 8 bytes a row)."""
    cells = _encoder(columns)
    sources = {
        "row": "pk",
        "owner_number": "owner_id",
        "predecessor": "predecessor_id",
    }
    fields = [sources.get(c.attr, c.attr) for c in columns]
    owner_at = fields.index("owner_id")
    link = "predecessors" if "predecessors" in fields else "predecessor_id"
    link_at = fields.index(link)
    listed_ids: array[int] = array("q")

    def row_of(pk: int) -> int | None:
        i = bisect_left(listed_ids, pk)
        return i + 1 if i < len(listed_ids) and listed_ids[i] == pk else None

    for page in _pages(model._default_manager.all(), "pk", fields):
        owners = _numbers({r[owner_at] for r in page})
        rows = []
        for r in page:
            listed_ids.append(r[0])
            values = list(r)
            values[0] = len(listed_ids)
            values[owner_at] = owners[r[owner_at]]
            if link == "predecessors":
                found = [row_of(pk) for pk in r[link_at] or [] if isinstance(pk, int)]
                values[link_at] = [n for n in found if n is not None]
            elif r[link_at] is not None:
                values[link_at] = row_of(r[link_at])
            rows.append(cells(values))
        yield rows


def _asset_pages() -> Iterator[list[list[str]]]:
    cells = _encoder(layout.ASSET_COLUMNS)
    own = [c.attr for c in layout.ASSET_COLUMNS if c.attr != "owner_number"]
    for page in _pages(Addressee.objects.all(), "number", ("pk", "number")):
        number = dict(page)
        found = sorted(
            (number[r[0]], *r[1:])
            for r in AssetDeclaration.objects.filter(owner_id__in=number).values_list(
                "owner_id", *own
            )
        )
        yield [cells(row) for row in found]


def producers() -> dict[str, Iterator[list[list[str]]]]:
    return {
        layout.ADDRESSEE_FILE: _addressee_pages(),
        layout.CO_OWNER_FILE: _co_owner_pages(),
        layout.CONTACT_FILE: _contact_pages(),
        layout.PARCEL_FILE: _ledger_pages(Parcel, layout.PARCEL_COLUMNS),
        layout.BUILDING_FILE: _ledger_pages(Building, layout.BUILDING_COLUMNS),
        layout.ASSET_FILE: _asset_pages(),
        layout.VEHICLE_FILE: _ledger_pages(LightVehicle, layout.VEHICLE_COLUMNS),
    }


# --- validation -----------------------------------------------------------------------------------


def _number_key(number: str) -> int:
    return int(number[1:])


@dataclass
class _Check:
    report: ImportReport
    directory: Path
    addressees: _NumberSet = field(default_factory=_NumberSet)
    groups: dict[str, tuple[int, str]] = field(default_factory=dict)  # 共有 → (line, 代表者)
    group_set: _NumberSet = field(default_factory=_NumberSet)
    residents: dict[str, int] = field(default_factory=dict)  # 宛名番号 → line
    counts: dict[str, Any] = field(default_factory=dict)

    def known(self, reader: _Reader, line: int, column: str, number: str) -> bool:
        if not number:
            reader.problem(line, column, number, "税務宛名番号がありません")
            return False
        if not _TAX_NUMBER.fullmatch(number) or _number_key(number) not in self.addressees:
            reader.problem(line, column, number, "その税務宛名番号の宛名がありません")
            return False
        return True


def _sized(reader: _Reader, line: int, v: Row, columns: Sequence[layout.Column]) -> bool:
    """Integers the database can hold."""
    good = True
    for c in columns:
        if c.kind in ("int", "centi") and v[c.attr] is not None:
            limit = _BIG if c.attr in _BIG_ATTRS else _SMALL
            if v[c.attr] > limit:
                reader.problem(line, c.name, str(v[c.attr]), "値が大きすぎます")
                good = False
    return good


def _choice(reader: _Reader, line: int, column: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        reader.problem(line, column, value, f"{'・'.join(choices)} のいずれかで指定してください")


def _required(reader: _Reader, line: int, v: Row, columns: Sequence[layout.Column]) -> None:
    for c in columns:
        if v[c.attr] in (None, ""):
            reader.problem(line, c.name, "", f"{c.name}がありません")


def _column(columns: Sequence[layout.Column], *attrs: str) -> list[layout.Column]:
    by = {c.attr: c for c in columns}
    return [by[a] for a in attrs]


def _year(reader: _Reader, line: int, column: str, year: int | None) -> None:
    if year is not None and not 1868 <= year <= 9999:
        reader.problem(line, column, str(year), "年度・年が範囲外です（1868〜9999）")


def _validate_addressees(check: _Check) -> None:
    cols = layout.ADDRESSEE_COLUMNS
    reader = _Reader(check.report, check.directory, layout.ADDRESSEE_FILE, cols)
    unique = _UniqueKeys()
    kinds: Tally[str] = Tally()
    last, last_line = "", 0
    try:
        for line, v in reader.rows():
            number = v["number"]
            if not _TAX_NUMBER.fullmatch(number):
                reader.problem(line, "税務宛名番号", number, "税務宛名番号は T と9桁の数字です")
            elif last_line and number <= last:
                reason = (
                    f"{last_line}行目と重複しています"
                    if number == last
                    else _out_of_order(last_line, last)
                )
                reader.problem(line, "税務宛名番号", number, reason)
            else:
                last, last_line = number, line
                check.addressees.add(_number_key(number))
            kind = v["kind"]
            _choice(reader, line, "宛名区分", kind, AddresseeKind.values)
            kinds[kind] += 1
            _required(reader, line, v, _column(cols, "name"))
            if kind == AddresseeKind.RESIDENT:
                resident = v["address_number"]
                if not resident:
                    reader.problem(line, "宛名番号", "", "住民の宛名には宛名番号が必要です")
                elif resident in check.residents:
                    reader.problem(
                        line,
                        "宛名番号",
                        resident,
                        f"{check.residents[resident]}行目と同じ住民です",
                    )
                else:
                    check.residents[resident] = line
            elif v["address_number"]:
                reader.problem(
                    line, "宛名番号", v["address_number"], "宛名番号は住民の宛名にだけ書きます"
                )
            if kind == AddresseeKind.CORPORATION:
                problem = corporate_number_problem(v["corporate_number"])
                if problem:
                    reader.problem(line, "法人番号", v["corporate_number"], problem)
                else:
                    unique.add("法人番号", v["corporate_number"], line)
            elif v["corporate_number"]:
                reader.problem(
                    line, "法人番号", v["corporate_number"], "法人番号は法人の宛名にだけ書きます"
                )
            representative = v["representative_number"]
            if kind == AddresseeKind.CO_OWNERS:
                if not representative:
                    reader.problem(line, "代表者_税務宛名番号", "", "共有には代表者が必要です")
                if _TAX_NUMBER.fullmatch(number):
                    check.groups[number] = (line, representative)
                    check.group_set.add(_number_key(number))
            elif representative:
                reader.problem(
                    line, "代表者_税務宛名番号", representative, "代表者は共有の宛名にだけ書きます"
                )
            if v["birth_date"] and not _BIRTH.fullmatch(v["birth_date"]):
                reader.problem(line, "生年月日", v["birth_date"], "YYYY-MM-DD で指定してください")
            if v["postal_code"] and not _POSTAL.fullmatch(v["postal_code"]):
                reader.problem(line, "住所_郵便番号", v["postal_code"], "郵便番号は7桁の数字です")
        for kind, lines in unique.duplicates():
            others = "・".join(f"{n}行目" for n in lines[1:])
            reader.problem(lines[0], kind, "", f"{others}と重複しています（別の宛名に同じ番号）")
    finally:
        unique.close()
    check.counts["税務宛名"] = {
        AddresseeKind(k).label: n for k, n in sorted(kinds.items()) if k in AddresseeKind.values
    }
    # 住民の宛名 → 住民記録/宛名.csv (read again as a stream; the residents are in a dict).
    if check.residents:  # (a package without 住民の宛名 does not read 宛名.csv again)
        for number, _, _ in _person_keys(check.directory):
            check.residents.pop(number, None)
            if not check.residents:
                break
    for number, line in sorted(check.residents.items(), key=lambda item: item[1]):
        reader.problem(
            line, "宛名番号", number, "その宛名番号の住民がありません（住民記録/宛名.csv）"
        )
    for line, representative in check.groups.values():
        if representative and (
            not _TAX_NUMBER.fullmatch(representative)
            or _number_key(representative) not in check.addressees
        ):
            reader.problem(
                line, "代表者_税務宛名番号", representative, "その税務宛名番号の宛名がありません"
            )


def _validate_co_owners(check: _Check) -> None:
    reader = _Reader(check.report, check.directory, layout.CO_OWNER_FILE, layout.CO_OWNER_COLUMNS)
    unique = _UniqueKeys()
    seen: set[str] = set()
    rows = 0
    group: str | None = None
    members: list[tuple[str, Fraction]] = []
    first_line = 0
    high: tuple[str, str] = ("", "")
    high_line = 0

    def close() -> None:
        if group is None or group not in check.groups:
            return
        representative = check.groups[group][1]
        if len(members) < 2:
            reader.problem(first_line, "共有者_税務宛名番号", group, "共有者は2人以上です")
        total = sum((f for _, f in members), Fraction(0))
        if total != 1:
            reader.problem(first_line, "持分_分子", group, f"持分の合計が1になりません（{total}）")
        if representative and representative not in {m for m, _ in members}:
            reader.problem(first_line, "共有_税務宛名番号", group, "代表者が共有者の中にいません")
        key = ",".join(f"{m}:{f.numerator}/{f.denominator}" for m, f in sorted(members))
        unique.add("共有者", key, first_line)

    try:
        for line, v in reader.rows():
            rows += 1
            key = (v["group_number"], v["member_number"])
            if high_line and key <= high:
                reason = (
                    f"{high_line}行目と重複しています"
                    if key == high
                    else _out_of_order(high_line, "・".join(high))
                )
                reader.problem(line, "共有者_税務宛名番号", v["member_number"], reason)
                continue
            high, high_line = key, line
            if v["group_number"] != group:
                close()
                group, members, first_line = v["group_number"], [], line
                seen.add(v["group_number"])
            number = v["group_number"]
            good = check.known(reader, line, "共有_税務宛名番号", number)
            if good and _number_key(number) not in check.group_set:
                reader.problem(line, "共有_税務宛名番号", number, "共有の宛名ではありません")
            member = v["member_number"]
            if (
                check.known(reader, line, "共有者_税務宛名番号", member)
                and _number_key(member) in check.group_set
            ):
                reader.problem(
                    line,
                    "共有者_税務宛名番号",
                    member,
                    "共有を共有者にすることはできません",
                )
            a, b = v["share_numerator"], v["share_denominator"]
            if a is None or b is None or not 0 < a <= b or b > _SMALL:
                reader.problem(line, "持分_分子", f"{a}/{b}", "持分は 0 < 分子 ≦ 分母 です")
            else:
                members.append((member, Fraction(a, b)))
        close()
        for kind, lines in unique.duplicates():
            others = "・".join(f"{n}行目" for n in lines[1:])
            reader.problem(lines[0], kind, "", f"{others}と同じ共有者・持分の共有です")
    finally:
        unique.close()
    for number, (line, _) in check.groups.items():
        if number not in seen:
            check.report.problems.append(
                Problem(layout.ADDRESSEE_FILE, line, "宛名区分", number, "共有者がありません")
            )
    check.counts["共有者"] = rows


def _validate_contacts(check: _Check) -> None:
    reader = _Reader(check.report, check.directory, layout.CONTACT_FILE, layout.CONTACT_COLUMNS)
    rows = 0
    high: tuple[str, str, str] = ("", "", "")
    high_line = 0
    for line, v in reader.rows():
        rows += 1
        key = (v["number"], v["business"], v["role"])
        if high_line and key <= high:
            reason = (
                f"{high_line}行目と重複しています"
                if key == high
                else _out_of_order(high_line, "・".join(high))
            )
            reader.problem(line, "税務宛名番号", v["number"], reason)
        else:
            high, high_line = key, line
        check.known(reader, line, "税務宛名番号", v["number"])
        _choice(reader, line, "業務", v["business"], Business.values)
        _choice(reader, line, "送付先区分", v["role"], ContactRole.values)
        for attr, name, limit in _CONTACT_LIMITS:
            if not v[attr].strip():
                reader.problem(line, name, v[attr], f"{name}がありません")
            elif len(v[attr]) > limit:
                reader.problem(line, name, v[attr][:20] + "…", f"{limit}文字以内です")
        if v["postal_code"] and not _POSTAL.fullmatch(v["postal_code"]):
            reader.problem(line, "住所_郵便番号", v["postal_code"], "郵便番号は7桁の数字です")
    check.counts["送付先"] = rows


class _Rows:
    """行番号: 1, 2, … in file order (the n-th row, on line n + 1)."""

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def check(self, line: int, row: int | None) -> int:
        if row != line - 1:
            self.reader.problem(
                line, "行番号", str(row or ""), f"行番号は1からの連番です（{line - 1} のはず）"
            )
        return line - 1


def _predecessors(reader: _Reader, line: int, row: int, value: Any) -> None:
    if value is None:
        return
    good = isinstance(value, list) and all(
        isinstance(p, int) and not isinstance(p, bool) and 1 <= p < row for p in value
    )
    if not good or len(set(value)) != len(value):
        reader.problem(
            line,
            "異動前の行番号",
            layout.encode(value, "json"),
            "この行より前の行番号の配列で指定してください（例 [3,4]）",
        )


def _validate_ledger(check: _Check, name: str) -> None:
    """土地.csv or 家屋.csv."""
    land = name == layout.PARCEL_FILE
    cols = layout.PARCEL_COLUMNS if land else layout.BUILDING_COLUMNS
    reader = _Reader(check.report, check.directory, name, cols)
    unique = _UniqueKeys()
    numbering = _Rows(reader)
    rows = 0
    number_attr = "lot_number" if land else "house_number"
    required = (
        ("location", "lot_number", "land_use", "area")
        if land
        else ("location", "house_number", "house_kind", "structure", "floor_area", "built_year")
    )
    try:
        for line, v in reader.rows():
            rows += 1
            before = len(check.report.problems)
            row = numbering.check(line, v["row"])
            _required(
                reader,
                line,
                v,
                _column(cols, *required, "assessed_value", "valid_from", "change", "changed_on"),
            )
            check.known(reader, line, "所有者_税務宛名番号", v["owner_number"])
            _choice(reader, line, "異動事由", v["change"], Change.values)
            _year(reader, line, "適用開始年度", v["valid_from"])
            _year(reader, line, "適用終了年度", v["valid_to"])
            start, end = v["valid_from"], v["valid_to"]
            if start is not None and end is not None and end < start:
                reader.problem(line, "適用終了年度", str(end), "適用開始年度より前です")
            _predecessors(reader, line, row, v["predecessors"])
            sized = _sized(reader, line, v, cols)
            if land:
                _choice(reader, line, "地目", v["land_use"], LandUse.values)
                prior = v["prior"]
                if prior is not None and (
                    not isinstance(prior, dict) or set(prior) - set(_PRIOR_KEYS)
                ):
                    reader.problem(
                        line,
                        "前年度課税標準額",
                        layout.encode(prior, "json"),
                        f"{'・'.join(_PRIOR_KEYS)} をキーとするオブジェクトで指定してください",
                    )
                    sized = False
            else:
                _choice(reader, line, "種類", v["house_kind"], HouseKind.values)
                _choice(reader, line, "構造", v["structure"], Structure.values)
                _year(reader, line, "建築年", v["built_year"])
                done = v["completed_on"]
                if done is not None and v["built_year"] not in (None, done.year):
                    reader.problem(
                        line, "新築年月日", done.isoformat(), "新築年月日と建築年が一致しません"
                    )
            if sized and len(check.report.problems) == before:  # the rules' own checks
                try:
                    if land:
                        property_rules.land_from_mapping(land_mapping_of(v))
                    else:
                        property_rules.house_from_mapping(house_mapping_of(v))
                except RuleInputError as exc:
                    column = next((c.name for c in cols if c.attr == exc.field), "")
                    reader.problem(line, column, "", exc.message)
            if v["valid_to"] is None and v["location"] and v[number_attr]:
                unique.add("現在の行", f"{v['location']}\x00{v[number_attr]}", line)
        for _, lines in unique.duplicates():
            others = "・".join(f"{n}行目" for n in lines[1:])
            label = "地番" if land else "家屋番号"
            reader.problem(
                lines[0], label, "", f"{others}と同じ所在・{label}の現在の行です（1行のはず）"
            )
    finally:
        unique.close()
    check.counts["土地" if land else "家屋"] = rows


def _validate_assets(check: _Check) -> None:
    cols = layout.ASSET_COLUMNS
    reader = _Reader(check.report, check.directory, layout.ASSET_FILE, cols)
    rows = 0
    high: tuple[str, int, int] = ("", -1, -1)
    high_line = 0
    previous = (0, False)  # (line, is_current) of the group's previous row

    def close_group() -> None:
        if high_line and not previous[1]:
            reader.problem(
                previous[0], "最新フラグ", "0", "年度ごとに最後の履歴番号が最新です（1のはず）"
            )

    for line, v in reader.rows():
        rows += 1
        _required(reader, line, v, _column(cols, "fiscal_year", "seq", "declared_base"))
        _required(reader, line, v, _column(cols, "declared_on"))
        check.known(reader, line, "所有者_税務宛名番号", v["owner_number"])
        _year(reader, line, "年度", v["fiscal_year"])
        _sized(reader, line, v, cols)
        key = (v["owner_number"], v["fiscal_year"] or 0, v["seq"] or 0)
        if high_line and key <= high:
            reason = (
                f"{high_line}行目と重複しています"
                if key == high
                else _out_of_order(high_line, f"{high[0]}・{high[1]}・{high[2]}")
            )
            reader.problem(line, "履歴番号", str(v["seq"]), reason)
            continue
        same = high_line and key[:2] == high[:2]
        if same:
            if previous[1]:
                reader.problem(
                    previous[0], "最新フラグ", "1", "後の履歴番号があるので最新ではありません"
                )
        else:
            close_group()
        expected = high[2] + 1 if same else 1
        if key[2] != expected:
            reader.problem(
                line, "履歴番号", str(key[2]), f"履歴番号は1からの連番です（{expected} のはず）"
            )
        high, high_line = key, line
        previous = (line, bool(v["is_current"]))
    close_group()
    check.counts["償却資産"] = rows


def _validate_vehicles(check: _Check) -> None:
    cols = layout.VEHICLE_COLUMNS
    reader = _Reader(check.report, check.directory, layout.VEHICLE_FILE, cols)
    unique = _UniqueKeys()
    numbering = _Rows(reader)
    rows = 0
    try:
        for line, v in reader.rows():
            rows += 1
            row = numbering.check(line, v["row"])
            _required(reader, line, v, _column(cols, "plate", "vehicle_class", "acquired_on"))
            check.known(reader, line, "所有者_税務宛名番号", v["owner_number"])
            _sized(reader, line, v, cols)
            try:
                vehicle_rules.vehicle_from_mapping(
                    {
                        "label": v["plate"],
                        "vehicle_class": v["vehicle_class"],
                        "use": v["use"],
                        "first_inspection": v["first_inspection"] or None,
                        "fuel": v["fuel"],
                        "towed": v["towed"],
                        "new_registration": v["new_registration"].isoformat()
                        if v["new_registration"]
                        else None,
                        "green_50_standard": v["green_50_standard"],
                    }
                )
            except RuleInputError as exc:
                column = next((c.name for c in cols if c.attr == exc.field), "")
                reader.problem(line, column, str(v.get(exc.field, "")), exc.message)
            exemption = v["exemption"]
            try:
                if exemption is not None and not isinstance(exemption, dict):
                    raise RuleInputError("exemption", "減免は {reason, ratio} で指定してください")
                vehicle_rules.exemption_from_mapping(exemption)
            except RuleInputError as exc:
                reader.problem(line, "減免", layout.encode(exemption, "json"), exc.message)
            released, release = v["released_on"], v["release"]
            if (released is None) != (release == ""):
                reader.problem(
                    line, "抹消事由", release, "抹消年月日と抹消事由は両方書くか両方空けます"
                )
            elif release:
                _choice(reader, line, "抹消事由", release, Release.values)
            if released is not None and v["acquired_on"] and released < v["acquired_on"]:
                reader.problem(line, "抹消年月日", released.isoformat(), "取得年月日より前です")
            predecessor = v["predecessor"]
            if predecessor is not None and not 1 <= predecessor < row:
                reader.problem(
                    line, "異動前の行番号", str(predecessor), "この行より前の行番号が必要です"
                )
            if released is None and v["plate"]:
                unique.add("標識番号", v["plate"], line)
        for kind, lines in unique.duplicates():
            others = "・".join(f"{n}行目" for n in lines[1:])
            reader.problem(lines[0], kind, "", f"{others}と同じ標識番号の現在の車両です")
    finally:
        unique.close()
    check.counts["軽自動車"] = rows


_VALIDATORS: dict[str, Callable[[_Check], None]] = {
    layout.ADDRESSEE_FILE: _validate_addressees,
    layout.CO_OWNER_FILE: _validate_co_owners,
    layout.CONTACT_FILE: _validate_contacts,
    layout.PARCEL_FILE: lambda check: _validate_ledger(check, layout.PARCEL_FILE),
    layout.BUILDING_FILE: lambda check: _validate_ledger(check, layout.BUILDING_FILE),
    layout.ASSET_FILE: _validate_assets,
    layout.VEHICLE_FILE: _validate_vehicles,
}

_COUNT_KEYS = {
    layout.ADDRESSEE_FILE: "税務宛名",
    layout.CO_OWNER_FILE: "共有者",
    layout.CONTACT_FILE: "送付先",
    layout.PARCEL_FILE: "土地",
    layout.BUILDING_FILE: "家屋",
    layout.ASSET_FILE: "償却資産",
    layout.VEHICLE_FILE: "軽自動車",
}


def _empty_counts() -> dict[str, Any]:
    return {key: ({} if key == "税務宛名" else 0) for key in _COUNT_KEYS.values()}


def validate(report: ImportReport, directory: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Check the 税務 files of the package (after the registry files); returns the counts for
    the reconciliation."""
    check = _Check(report, directory)
    check.counts = _empty_counts()
    for name, _ in listed(manifest):
        before = len(report.problems)
        _VALIDATORS[name](check)
        counted = check.counts[_COUNT_KEYS[name]]
        actual = sum(counted.values()) if isinstance(counted, dict) else counted
        expected = manifest["files"][name].get("rows")
        clean = not any(p.file == name for p in report.problems[before:])
        if expected != actual and clean:  # rows with unreadable cells are not counted
            _add_problem(
                report,
                Problem(
                    name, 0, "rows", str(actual), f"manifest.json の件数 {expected} と一致しません"
                ),
            )
    return check.counts


def counts_in_database() -> dict[str, Any]:
    kinds = {
        AddresseeKind(k).label: n
        for k, n in sorted(
            Addressee.objects.values("kind").annotate(n=Count("id")).values_list("kind", "n")
        )
    }
    contacts = 0
    for value in Addressee.objects.values_list("contacts", flat=True).iterator(chunk_size=BATCH):
        contacts += sum(1 for roles in (value or {}).values() for e in (roles or {}).values() if e)
    return {
        "税務宛名": kinds,
        "共有者": CoOwner.objects.count(),
        "送付先": contacts,
        "土地": Parcel.objects.count(),
        "家屋": Building.objects.count(),
        "償却資産": AssetDeclaration.objects.count(),
        "軽自動車": LightVehicle.objects.count(),
    }


def has_data() -> bool:
    return any(
        model._default_manager.exists()
        for model in (Addressee, Parcel, Building, AssetDeclaration, LightVehicle)
    )


# --- write (ORM, after the registry, in the import's transaction) ------------------------------


def write(directory: Path, municipality: Municipality, manifest: dict[str, Any]) -> None:
    names = {name for name, _ in listed(manifest)}
    report = ImportReport(municipality.code, dry_run=False)
    m = municipality.pk

    def read(name: str) -> Iterator[tuple[int, Row]]:
        if name not in names:
            return iter(())
        columns = dict(layout.TAX_FILES)[name]
        return _Reader(report, directory, name, columns).rows()

    # 税務宛名 (代表者 and the 共有's members key once the 共有者 are in).
    for chunk in _batched(read(layout.ADDRESSEE_FILE)):
        persons = _ids(Person, "address_number", {v["address_number"] for v in chunk} - {""})
        Addressee.objects.bulk_create(
            Addressee(
                municipality_id=m,
                number=v["number"],
                kind=v["kind"],
                person_id=persons[v["address_number"]] if v["address_number"] else None,
                name=v["name"],
                kana=v["kana"],
                birth_date=v["birth_date"],
                postal_code=v["postal_code"],
                address=v["address"],
                corporate_number=v["corporate_number"],
                created_at=v["created_at"],
                created_by=v["created_by"],
            )
            for v in chunk
        )
    for chunk in _batched(read(layout.CO_OWNER_FILE)):
        ids = _ids(
            Addressee, "number", {v[a] for v in chunk for a in ("group_number", "member_number")}
        )
        CoOwner.objects.bulk_create(
            CoOwner(
                municipality_id=m,
                group_id=ids[v["group_number"]],
                member_id=ids[v["member_number"]],
                share_numerator=v["share_numerator"],
                share_denominator=v["share_denominator"],
            )
            for v in chunk
        )
    groups = ((line, v) for line, v in read(layout.ADDRESSEE_FILE) if v["representative_number"])
    for chunk in _batched(groups):
        ids = _ids(
            Addressee,
            "number",
            {v[a] for v in chunk for a in ("number", "representative_number")},
        )
        shares: dict[int, list[tuple[int, Fraction]]] = {}
        for group, member, a, b in CoOwner.objects.filter(
            group_id__in=[ids[v["number"]] for v in chunk]
        ).values_list("group_id", "member_id", "share_numerator", "share_denominator"):
            shares.setdefault(group, []).append((member, Fraction(a, b)))
        for v in chunk:
            pk = ids[v["number"]]
            key = ",".join(f"{i}:{f.numerator}/{f.denominator}" for i, f in sorted(shares[pk]))
            Addressee.objects.filter(pk=pk).update(
                representative_id=ids[v["representative_number"]], members_key=key[:500]
            )
    # 送付先・納税管理人: the rows of one 宛名 are adjacent (sorted by 税務宛名番号).
    pending: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for chunk in _batched(read(layout.CONTACT_FILE)):
        for v in chunk:
            entry = {"name": v["name"], "address": v["address"], "postal_code": v["postal_code"]}
            pending.setdefault(v["number"], {}).setdefault(v["business"], {})[v["role"]] = entry
        if len(pending) > BATCH:
            last = chunk[-1]["number"]
            _save_contacts({k: c for k, c in pending.items() if k != last})
            pending = {last: pending[last]}
    _save_contacts(pending)

    # 固定資産課税台帳.
    _write_ledger(read(layout.PARCEL_FILE), Parcel, layout.PARCEL_COLUMNS, m)
    _write_ledger(read(layout.BUILDING_FILE), Building, layout.BUILDING_COLUMNS, m)
    for chunk in _batched(read(layout.ASSET_FILE)):
        owners = _ids(Addressee, "number", {v["owner_number"] for v in chunk})
        AssetDeclaration.objects.bulk_create(
            AssetDeclaration(
                municipality_id=m,
                owner_id=owners[v["owner_number"]],
                **{c.attr: v[c.attr] for c in layout.ASSET_COLUMNS if c.attr != "owner_number"},
            )
            for v in chunk
        )
    _write_ledger(read(layout.VEHICLE_FILE), LightVehicle, layout.VEHICLE_COLUMNS, m)


def _save_contacts(contacts: dict[str, dict[str, dict[str, dict[str, str]]]]) -> None:
    if not contacts:
        return
    ids = _ids(Addressee, "number", set(contacts))
    for number, value in contacts.items():
        Addressee.objects.filter(pk=ids[number]).update(contacts=value)


def _write_ledger(
    rows: Iterator[tuple[int, Row]],
    model: type[Parcel] | type[Building] | type[LightVehicle],
    columns: tuple[layout.Column, ...],
    municipality_id: int,
) -> None:
    """Rows in file order; 行番号 n is the n-th id created (kept in an array). A row whose
    異動前の行 is still pending in the batch has the batch created first."""
    created: array[int] = array("q")
    pending: list[Any] = []
    own = [c.attr for c in columns if c.attr not in ("row", "owner_number", "predecessor")]

    def flush() -> None:
        model._default_manager.bulk_create(pending)
        created.extend(obj.pk for obj in pending)
        pending.clear()

    for chunk in _batched(rows):
        owners = _ids(Addressee, "number", {v["owner_number"] for v in chunk})
        for v in chunk:
            data = {attr: v[attr] for attr in own}
            before = list(data.get("predecessors") or [])
            if model is LightVehicle and v["predecessor"]:
                before.append(v["predecessor"])
            if any(n > len(created) for n in before):
                flush()
            if "predecessors" in data:
                data["predecessors"] = [created[n - 1] for n in before]
            if "prior" in data:
                data["prior"] = data["prior"] or {}
            elif v.get("predecessor"):
                data["predecessor_id"] = created[v["predecessor"] - 1]
            pending.append(
                model(municipality_id=municipality_id, owner_id=owners[v["owner_number"]], **data)
            )
            if len(pending) >= BATCH:
                flush()
    flush()
