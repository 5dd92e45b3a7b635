"""Legacy vendor files → the standard layout, through a declarative mapping file (TOML).

A mapping file describes one vendor's resident file: encoding (CP932 with its user-defined
area, EUC-JP, UTF-8), CSV or fixed-length records, which bytes or column hold which item,
code tables (続柄, 住民状態, 性別, 元号 …) and date formats (7桁和暦 with 不詳, YYYYMMDD, ISO).
No code per vendor: a new vendor is a new mapping file.

Conversion writes an ordinary standard-layout package (one 移行 異動 per person), so that the
import that follows validates and loads it exactly like any other package, all or nothing.
外字 (private-use code points after decoding) are replaced through the municipality's 外字 table;
an unmapped one is reported with its file, line and field and put on the identification queue —
never replaced by 〓.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from moyai.exchange import layout
from moyai.exchange.services import Problem
from moyai.moji.matching import PersonFacts, Verdict, candidate_keys, match
from moyai.moji.rules import to_katakana
from moyai.registry.rules import RELATION_CODES, m11_check_digit

ENCODINGS = {"cp932": "cp932", "shift_jis": "cp932", "euc_jp": "euc_jp", "utf-8": "utf-8"}
ERA_START_YEAR = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
PUA = range(0xE000, 0xF900)
TARGETS = {
    "address_number",
    "household_number",
    "resident_code",
    "my_number",
    "name",
    "family_name",
    "given_name",
    "name_kana",
    "birth_date",
    "sex",
    "relation",
    "status",
    "kind",
    "address_town",
    "address_block",
    "address_building",
    "postal_code",
    "address_town_code",
    "became_resident_on",
    "address_set_on",
    "previous_address",
    "domicile",
    "domicile_head",
    "nationality",
    "removed_on",
    "removed_reason",
    "household_order",
}
REQUIRED = {"address_number", "household_number", "birth_date", "sex", "relation", "status"}


class MappingError(ValueError):
    """The mapping file itself is wrong (named key and reason)."""


@dataclass(frozen=True)
class FieldSpec:
    target: str
    start: int = 0  # fixed-length: 1-based byte position
    length: int = 0
    column: int = 0  # csv: 1-based column
    code: str = ""  # name of a code table
    date: str = ""  # wareki7 | yyyymmdd | iso
    strip: str = " 　"


@dataclass
class VendorMapping:
    vendor: str
    encoding: str
    format: str
    file: str
    record_length: int
    header: bool
    number_check: str
    fields: dict[str, FieldSpec]
    codes: dict[str, dict[str, str]]
    gaiji_hints: dict[str, str]
    gaiji_images: str
    counts: dict[str, int] = field(default_factory=dict)


def load_mapping(path: Path) -> VendorMapping:
    """Read and check a mapping file; raises :class:`MappingError` naming the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"マッピングファイルを読めません: {exc}") from None
    source = data.get("source", {})
    encoding = str(source.get("encoding", "")).lower()
    if encoding not in ENCODINGS:
        raise MappingError(f"source.encoding は {', '.join(ENCODINGS)} のいずれかです")
    fmt = source.get("format")
    if fmt not in ("fixed", "csv"):
        raise MappingError("source.format は fixed か csv です")
    if not source.get("file"):
        raise MappingError("source.file（読み込むファイル名）がありません")
    fields: dict[str, FieldSpec] = {}
    for target, spec in data.get("fields", {}).items():
        if target not in TARGETS:
            raise MappingError(f"fields.{target}: 取り込めない項目です")
        if fmt == "fixed" and not (spec.get("start", 0) >= 1 and spec.get("length", 0) >= 1):
            raise MappingError(f"fields.{target}: start と length（バイト）が必要です")
        if fmt == "csv" and spec.get("column", 0) < 1:
            raise MappingError(f"fields.{target}: column（1から）が必要です")
        if spec.get("code") and spec["code"] not in data.get("codes", {}):
            raise MappingError(f"fields.{target}: コード表 codes.{spec['code']} がありません")
        if spec.get("date", "") not in ("", "wareki7", "yyyymmdd", "iso"):
            raise MappingError(f"fields.{target}: date は wareki7, yyyymmdd, iso のいずれかです")
        fields[target] = FieldSpec(
            target=target,
            start=spec.get("start", 0),
            length=spec.get("length", 0),
            column=spec.get("column", 0),
            code=spec.get("code", ""),
            date=spec.get("date", ""),
            strip=spec.get("strip", " 　"),
        )
    missing = REQUIRED - set(fields)
    if "name" not in fields and "family_name" not in fields:
        missing.add("name または family_name")
    if missing:
        raise MappingError(f"fields に必須の項目がありません: {', '.join(sorted(missing))}")
    if "era" not in data.get("codes", {}) and any(f.date == "wareki7" for f in fields.values()):
        raise MappingError("7桁和暦を使うには codes.era（元号コード → 元号名）が必要です")
    check = source.get("number_check", "pad")
    if check not in ("pad", "append"):
        raise MappingError("source.number_check は pad か append です")
    gaiji = data.get("gaiji", {})
    return VendorMapping(
        vendor=str(source.get("vendor", path.stem)),
        encoding=ENCODINGS[encoding],
        format=fmt,
        file=source["file"],
        record_length=int(source.get("record_length", 0)),
        header=bool(source.get("header", False)),
        number_check=check,
        fields=fields,
        codes={k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("codes", {}).items()},
        gaiji_hints={k.upper(): v for k, v in gaiji.get("hints", {}).items()},
        gaiji_images=str(gaiji.get("images", "")),
        counts={k: int(v) for k, v in data.get("counts", {}).items()},
    )


# --- values ---------------------------------------------------------------------------------


def wareki7(text: str, eras: Mapping[str, str]) -> tuple[str, bool, str]:
    """7桁和暦 (元号1桁 + 年月日6桁) → (ISO, 不詳, 不詳表記). 00 month/day means 不詳."""
    if len(text) != 7 or not text.isdigit():
        raise ValueError("7桁の数字（元号1桁＋年月日）ではありません")
    if text == "0000000":
        return "0001-01-01", True, "年月日不詳"
    era = eras.get(text[0])
    if era not in ERA_START_YEAR:
        raise ValueError(f"元号コード {text[0]} がコード表にありません")
    year = ERA_START_YEAR[era] + int(text[1:3]) - 1
    month, day = int(text[3:5]), int(text[5:7])
    if int(text[1:3]) == 0:
        raise ValueError("和暦の年が 00 です")
    shown = f"{era}{'元' if int(text[1:3]) == 1 else int(text[1:3])}年"
    if month == 0:
        return f"{year:04d}-01-01", True, f"{shown}月日不詳"
    if not 1 <= month <= 12:
        raise ValueError(f"月 {month} が範囲外です")
    if day == 0:
        return f"{year:04d}-{month:02d}-01", True, f"{shown}{month}月日不詳"
    if not 1 <= day <= 31:
        raise ValueError(f"日 {day} が範囲外です")
    return f"{year:04d}-{month:02d}-{day:02d}", False, ""


def convert_date(text: str, fmt: str, eras: Mapping[str, str]) -> tuple[str, bool, str]:
    if not text:
        return "", False, ""
    if fmt == "wareki7":
        return wareki7(text, eras)
    if fmt == "yyyymmdd":
        if len(text) != 8 or not text.isdigit():
            raise ValueError("8桁の数字（YYYYMMDD）ではありません")
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    from moyai.registry.rules import FuzzyDate

    FuzzyDate(text)  # checks shape and ranges
    return text, False, ""


def normalise_number(text: str, check: str) -> str:
    """A legacy 宛名番号/世帯番号 as the 15-digit standard number.

    ``pad``: the legacy number already ends with an M11 check digit (zero-padding keeps it
    valid); ``append``: the legacy number has none, one is appended.
    """
    if not text.isdigit():
        raise ValueError("数字ではありません")
    if check == "append":
        digit = m11_check_digit(text.zfill(14))
        if digit is None:
            raise ValueError("この番号には1桁の検査数字が付けられません（余り1）")
        text = text + str(digit)
    if len(text) > 15:
        raise ValueError("15桁を超えています")
    return text.zfill(15)


# --- reading --------------------------------------------------------------------------------


@dataclass
class LegacyRow:
    line: int
    values: dict[str, str]


def read_rows(
    mapping: VendorMapping, directory: Path, problems: list[Problem]
) -> Iterator[LegacyRow]:
    path = directory / mapping.file
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(mapping.file, 0, "", "", "ファイルがありません"))
        return
    if mapping.format == "fixed":
        yield from _fixed_rows(mapping, raw, problems)
    else:
        yield from _csv_rows(mapping, raw, problems)


def _decode(
    mapping: VendorMapping, data: bytes, line: int, target: str, problems: list[Problem]
) -> str | None:
    try:
        return data.decode(mapping.encoding)
    except UnicodeDecodeError as exc:
        problems.append(
            Problem(
                mapping.file,
                line,
                target,
                data.hex(" ").upper(),
                f"{mapping.encoding} として読めないバイト列です（{exc.reason}）",
            )
        )
        return None


def _fixed_rows(mapping: VendorMapping, raw: bytes, problems: list[Problem]) -> Iterator[LegacyRow]:
    lines = raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, record in enumerate(lines, start=1):
        if mapping.record_length and len(record) != mapping.record_length:
            problems.append(
                Problem(
                    mapping.file,
                    number,
                    "",
                    "",
                    f"レコード長が {len(record)} バイトです"
                    f"（{mapping.record_length} バイトのはず）",
                )
            )
            continue
        values: dict[str, str] = {}
        good = True
        for spec in mapping.fields.values():
            chunk = record[spec.start - 1 : spec.start - 1 + spec.length]
            text = _decode(mapping, chunk, number, spec.target, problems)
            if text is None:
                good = False
                continue
            values[spec.target] = text.strip(spec.strip)
        if good:
            yield LegacyRow(number, values)


def _csv_rows(mapping: VendorMapping, raw: bytes, problems: list[Problem]) -> Iterator[LegacyRow]:
    text = _decode(mapping, raw, 0, "", problems)
    if text is None:
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    width = max(s.column for s in mapping.fields.values())
    for number, cells in enumerate(reader, start=1):
        if mapping.header and number == 1:
            continue
        if len(cells) < width:
            problems.append(
                Problem(
                    mapping.file,
                    number,
                    "",
                    "",
                    f"列の数が {len(cells)} です（{width} 列以上のはず）",
                )
            )
            continue
        yield LegacyRow(
            number, {s.target: cells[s.column - 1].strip(s.strip) for s in mapping.fields.values()}
        )


# --- conversion -----------------------------------------------------------------------------


@dataclass
class ConversionResult:
    problems: list[Problem]
    persons: int = 0
    unmapped_gaiji: dict[str, tuple[str, int, str, str]] = field(default_factory=dict)
    source_counts: dict[str, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)


GaijiLookup = Callable[[str], str | None]


def gaiji_code(ch: str) -> str:
    return f"{ord(ch):04X}"


def convert(
    *,
    mapping: VendorMapping,
    directory: Path,
    out: Path,
    municipality_code: str,
    municipality_name: str,
    prefecture: str,
    gaiji: GaijiLookup,
    processed_at: datetime | None = None,
) -> ConversionResult:
    """Read the vendor file and write a standard-layout package into ``out``."""
    result = ConversionResult(problems=[])
    problems = result.problems
    eras = mapping.codes.get("era", {})
    persons: list[list[str]] = []
    records: list[list[str]] = []
    facts: list[tuple[int, PersonFacts]] = []
    order: dict[str, int] = {}
    seen: dict[str, int] = {}
    when = processed_at or datetime(2000, 1, 1, tzinfo=UTC)

    def code(spec_target: str, value: str, line: int) -> str:
        spec = mapping.fields[spec_target]
        if not spec.code:
            return value
        table = mapping.codes[spec.code]
        if value not in table:
            problems.append(
                Problem(
                    mapping.file,
                    line,
                    spec_target,
                    value,
                    f"コード表 codes.{spec.code} にないコードです",
                )
            )
            return ""
        return table[value]

    def text(value: str, line: int, target: str) -> str:
        out_chars = []
        for ch in value:
            if ord(ch) in PUA:
                key = gaiji_code(ch)
                replacement = gaiji(key)
                if replacement is None:
                    result.unmapped_gaiji.setdefault(key, (mapping.file, line, target, value))
                    problems.append(
                        Problem(
                            mapping.file,
                            line,
                            target,
                            f"U+{key}",
                            f"外字 U+{key} は未同定です（同定待ちに登録しました）",
                        )
                    )
                    out_chars.append(ch)
                else:
                    out_chars.append(replacement)
            else:
                out_chars.append(ch)
        return "".join(out_chars)

    for row in read_rows(mapping, directory, problems):
        v = row.values
        line = row.line
        try:
            number = normalise_number(v["address_number"], mapping.number_check)
            household = normalise_number(v["household_number"], mapping.number_check)
        except ValueError as exc:
            problems.append(
                Problem(
                    mapping.file,
                    line,
                    "address_number/household_number",
                    v.get("address_number", ""),
                    str(exc),
                )
            )
            continue
        if number in seen:
            problems.append(
                Problem(
                    mapping.file,
                    line,
                    "address_number",
                    v["address_number"],
                    f"{seen[number]}行目と同じ宛名番号です",
                )
            )
            continue
        seen[number] = line
        if "name" in v:
            parts = text(v["name"], line, "name").replace(" ", "　").split("　", 1)
            family, given = parts[0], parts[1] if len(parts) > 1 else ""
        else:
            family = text(v.get("family_name", ""), line, "family_name")
            given = text(v.get("given_name", ""), line, "given_name")
        dates: dict[str, tuple[str, bool, str]] = {}
        for target in ("birth_date", "became_resident_on", "address_set_on", "removed_on"):
            if target in v:
                try:
                    dates[target] = convert_date(v[target], mapping.fields[target].date, eras)
                except ValueError as exc:
                    problems.append(Problem(mapping.file, line, target, v[target], str(exc)))
                    dates[target] = ("", False, "")
            else:
                dates[target] = ("", False, "")
        relation = code("relation", v["relation"], line)
        codes = [relation[i : i + 2] for i in range(0, len(relation), 2)] if relation else []
        if codes and any(c not in RELATION_CODES for c in codes):
            problems.append(
                Problem(
                    mapping.file,
                    line,
                    "relation",
                    v["relation"],
                    f"続柄コード {relation} は標準のコードではありません",
                )
            )
        status = code("status", v["status"], line)
        sex = code("sex", v["sex"], line)
        kind = code("kind", v["kind"], line) if "kind" in v else "1"
        order[household] = order.get(household, 0) + 1
        effective = (
            dates["address_set_on"][0]
            or dates["became_resident_on"][0]
            or dates["birth_date"][0]
            or "0001-01-01"
        )
        persons.append(
            [number, v.get("resident_code", ""), v.get("my_number", ""), "1", when.isoformat()]
        )
        record = {
            "address_number": number,
            "seq": 1,
            "is_latest": True,
            "movement_number": 1,
            "effective_from": effective,
            "cancelled": False,
            "status": status,
            "kind": kind,
            "family_name": family,
            "given_name": given,
            "name": f"{family}　{given}".strip("　"),
            "name_kana": to_katakana(v.get("name_kana", "")),
            "kana_status": "0",
            "name_roman": "",
            "former_surname": "",
            "former_surname_kana": "",
            "alias": "",
            "alias_kana": "",
            "birth_date": dates["birth_date"][0],
            "birth_date_unknown": dates["birth_date"][1],
            "birth_date_label": dates["birth_date"][2],
            "sex": sex,
            "household_number": household,
            "is_head": codes == ["02"],
            "relation_codes": codes,
            "household_order": int(v.get("household_order") or order[household]),
            "head_name": "",
            "address_prefecture": prefecture,
            "address_city": municipality_name,
            "address_town": text(v.get("address_town", ""), line, "address_town"),
            "address_town_code": v.get("address_town_code", ""),
            "address_block": v.get("address_block", ""),
            "address_building": text(v.get("address_building", ""), line, "address_building"),
            "postal_code": v.get("postal_code", "").replace("-", ""),
            "became_resident_on": dates["became_resident_on"][0],
            "became_resident_on_unknown": dates["became_resident_on"][1],
            "became_resident_on_label": dates["became_resident_on"][2],
            "address_set_on": dates["address_set_on"][0],
            "address_set_on_unknown": dates["address_set_on"][1],
            "address_set_on_label": dates["address_set_on"][2],
            "previous_address": text(v.get("previous_address", ""), line, "previous_address"),
            "destination_planned": "",
            "moved_out_planned_on": "",
            "destination_confirmed": "",
            "moved_out_on": "",
            "move_in_notice_on": "",
            "removed_reason": v.get("removed_reason", "") if status != "1" else "",
            "removed_on": dates["removed_on"][0] if status != "1" else "",
            "domicile": text(v.get("domicile", ""), line, "domicile"),
            "domicile_head": text(v.get("domicile_head", ""), line, "domicile_head"),
            "nationality": v.get("nationality", ""),
            "residence_status": "",
            "residence_period": "",
            "residence_expiry": "",
            "residence_card_number": "",
            "article_30_45": "",
            "qualifications": {},
        }
        records.append([layout.encode(record[c.attr], c.kind) for c in layout.RECORD_COLUMNS])
        facts.append(
            (
                line,
                PersonFacts(
                    name=str(record["name"]),
                    kana=str(record["name_kana"]),
                    birth_date=str(record["birth_date"]),
                    birth_date_unknown=bool(record["birth_date_unknown"]),
                    address=f"{record['address_town']}{record['address_block']}",
                ),
            )
        )
    heads = {
        r[_col("household_number")]: r[_col("name")] for r in records if r[_col("is_head")] == "1"
    }
    for r in records:
        r[_col("head_name")] = heads.get(r[_col("household_number")], "")
    persons.sort()
    records.sort(key=lambda r: (r[0], int(r[1])))
    result.duplicates = find_duplicates(mapping.file, facts)
    result.persons = len(persons)
    result.source_counts = dict(mapping.counts)
    if mapping.counts.get("persons") not in (None, len(persons)) and not problems:
        problems.append(
            Problem(
                mapping.file,
                0,
                "",
                str(len(persons)),
                f"移行元の件数 {mapping.counts['persons']} と一致しません",
            )
        )
    if problems:
        return result
    movement = {
        "number": 1,
        "kind": "migration",
        "occurred_on": when.date().isoformat(),
        "occurred_on_unknown": False,
        "occurred_on_label": "",
        "notified_on": "",
        "processed_at": when,
        "notifier_name": "",
        "notifier_relation": "",
        "counter": "データ移行",
        "staff_username": f"migration:{mapping.vendor}",
        "note": f"{mapping.vendor} からの移行（{mapping.file}）",
        "warnings": [],
        "cancels_number": None,
        "cancelled_by_number": None,
    }
    _write_package(
        out,
        municipality_code,
        municipality_name,
        prefecture,
        persons,
        [[layout.encode(movement[c.attr], c.kind) for c in layout.MOVEMENT_COLUMNS]],
        records,
        with_my_number=any(p[2] for p in persons),
    )
    return result


def find_duplicates(file: str, facts: list[tuple[int, PersonFacts]]) -> list[str]:
    """名寄せ within one source file: pairs that look like the same person, for a person to
    check before (or after) the import. Blocking keys keep this close to linear."""
    groups: dict[str, list[tuple[int, PersonFacts]]] = {}
    for item in facts:
        for key in candidate_keys(item[1]):
            groups.setdefault(key, []).append(item)
    found: dict[tuple[int, int], str] = {}
    for members in groups.values():
        for i, (line_a, a) in enumerate(members):
            for line_b, b in members[i + 1 :]:
                pair = (min(line_a, line_b), max(line_a, line_b))
                if pair in found:
                    continue
                result = match(a, b)
                if result.verdict != Verdict.DIFFERENT:
                    found[pair] = (
                        f"{file} {pair[0]}行目と{pair[1]}行目は{result.verdict.label}"
                        f"（{result.score:.2f}: {'、'.join(result.reasons[:3])}）"
                    )
    return [found[k] for k in sorted(found)]


def _col(attr: str) -> int:
    return [c.attr for c in layout.RECORD_COLUMNS].index(attr)


def _write_package(
    out: Path,
    code: str,
    name: str,
    prefecture: str,
    persons: list[list[str]],
    movements: list[list[str]],
    records: list[list[str]],
    *,
    with_my_number: bool,
) -> None:
    files = {}
    for file, columns, rows in (
        (layout.PERSON_FILE, layout.PERSON_COLUMNS, persons),
        (layout.MOVEMENT_FILE, layout.MOVEMENT_COLUMNS, movements),
        (layout.RECORD_FILE, layout.RECORD_COLUMNS, records),
    ):
        data = layout.write_csv(columns, rows)
        path = out / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files[file] = {"rows": len(rows), "sha256": hashlib.sha256(data).hexdigest()}
    manifest = {
        "format": layout.FORMAT,
        "version": layout.VERSION,
        "団体コード": code,
        "団体名": f"{prefecture}{name}",
        "最終異動番号": 1,
        "個人番号を含む": with_my_number,
        "files": files,
    }
    (out / "manifest.json").write_bytes(layout.manifest_bytes(manifest))
