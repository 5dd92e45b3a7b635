"""The standard layout (標準レイアウト): file names, columns and value encodings. Pure, no I/O.

One CSV per entity, UTF-8 without BOM, LF line ends, every field quoted only when needed
(RFC 4180), columns named with the 基本データリスト vocabulary, rows in key order. The same
registry always produces the same bytes, so an export → import → export round trip can be
compared byte for byte. See ``docs/exchange.md`` for the specification.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

FORMAT = "moyai-standard-layout"
VERSION = "1.1"  # 1.1: 税務の宛名・固定資産課税台帳・軽自動車の台帳 (optional files)
READABLE_VERSIONS = ("1.0", "1.1")  # 1.0 packages hold the registry files only


@dataclass(frozen=True)
class Column:
    name: str  # 基本データリストの項目名
    attr: str  # where the value lives in moyai
    kind: str = "text"  # text | bool | int | json | datetime | date | centi


def _c(name: str, attr: str, kind: str = "text") -> Column:
    return Column(name, attr, kind)


PERSON_FILE = "住民記録/宛名.csv"
PERSON_COLUMNS: tuple[Column, ...] = (
    _c("宛名番号", "address_number"),
    _c("住民票コード", "resident_code"),
    _c("個人番号", "my_number"),
    _c("最新履歴番号", "latest_seq", "int"),
    _c("登録日時", "created_at", "datetime"),
)

MOVEMENT_FILE = "住民記録/異動.csv"
MOVEMENT_COLUMNS: tuple[Column, ...] = (
    _c("異動番号", "number", "int"),
    _c("異動事由", "kind"),
    _c("異動年月日", "occurred_on"),
    _c("異動年月日_不詳フラグ", "occurred_on_unknown", "bool"),
    _c("異動年月日_不詳表記", "occurred_on_label"),
    _c("異動届出年月日", "notified_on"),
    _c("処理日時", "processed_at", "datetime"),
    _c("届出人氏名", "notifier_name"),
    _c("届出人続柄", "notifier_relation"),
    _c("入力場所", "counter"),
    _c("処理者", "staff_username"),
    _c("留意事項", "note"),
    _c("警告", "warnings", "json"),
    _c("取消対象異動番号", "cancels_number", "int"),
    _c("取消異動番号", "cancelled_by_number", "int"),
)

RECORD_FILE = "住民記録/住民票履歴.csv"
RECORD_COLUMNS: tuple[Column, ...] = (
    _c("宛名番号", "address_number"),
    _c("個人履歴番号", "seq", "int"),
    _c("最新フラグ", "is_latest", "bool"),
    _c("異動番号", "movement_number", "int"),
    _c("適用年月日", "effective_from"),
    _c("取消フラグ", "cancelled", "bool"),
    _c("住民状態", "status"),
    _c("住民種別", "kind"),
    _c("氏_日本人", "family_name"),
    _c("名_日本人", "given_name"),
    _c("氏名", "name"),
    _c("氏名_フリガナ", "name_kana"),
    _c("氏名_フリガナ確認状況", "kana_status"),
    _c("氏名_外国人ローマ字", "name_roman"),
    _c("旧氏", "former_surname"),
    _c("旧氏_フリガナ", "former_surname_kana"),
    _c("通称", "alias"),
    _c("通称_フリガナ", "alias_kana"),
    _c("生年月日", "birth_date"),
    _c("生年月日_不詳フラグ", "birth_date_unknown", "bool"),
    _c("生年月日_不詳表記", "birth_date_label"),
    _c("性別", "sex"),
    _c("世帯番号", "household_number"),
    _c("世帯主フラグ", "is_head", "bool"),
    _c("続柄コード", "relation_codes", "json"),
    _c("記載順位", "household_order", "int"),
    _c("世帯主氏名", "head_name"),
    _c("住所_都道府県", "address_prefecture"),
    _c("住所_市区郡町村名", "address_city"),
    _c("住所_町字", "address_town"),
    _c("住所_町字コード", "address_town_code"),
    _c("住所_番地号表記", "address_block"),
    _c("住所_方書", "address_building"),
    _c("住所_郵便番号", "postal_code"),
    _c("住民となった年月日", "became_resident_on"),
    _c("住民となった年月日_不詳フラグ", "became_resident_on_unknown", "bool"),
    _c("住民となった年月日_不詳表記", "became_resident_on_label"),
    _c("住所を定めた年月日", "address_set_on"),
    _c("住所を定めた年月日_不詳フラグ", "address_set_on_unknown", "bool"),
    _c("住所を定めた年月日_不詳表記", "address_set_on_label"),
    _c("転入前住所", "previous_address"),
    _c("転出先住所（予定）", "destination_planned"),
    _c("転出予定年月日", "moved_out_planned_on"),
    _c("転出先住所（確定）", "destination_confirmed"),
    _c("転出年月日（確定）", "moved_out_on"),
    _c("転入通知年月日", "move_in_notice_on"),
    _c("消除の事由", "removed_reason"),
    _c("消除の異動年月日", "removed_on"),
    _c("本籍", "domicile"),
    _c("戸籍_筆頭者", "domicile_head"),
    _c("国籍名等", "nationality"),
    _c("在留資格等", "residence_status"),
    _c("在留期間等", "residence_period"),
    _c("在留期間の満了の日", "residence_expiry"),
    _c("在留カード等番号", "residence_card_number"),
    _c("第30条45規定区分", "article_30_45"),
    _c("資格", "qualifications", "json"),
)

FILES: tuple[tuple[str, tuple[Column, ...]], ...] = (
    (PERSON_FILE, PERSON_COLUMNS),
    (MOVEMENT_FILE, MOVEMENT_COLUMNS),
    (RECORD_FILE, RECORD_COLUMNS),
)

# --- 税務 (version 1.1): each file optional in a package; ``export`` always writes them all. ---
# References are by business keys: 宛名番号 (住民記録), 税務宛名番号, and 行番号 — the row's
# position in its file (1, 2, … in the order the rows were registered), for the 異動前の行 of a
# ledger row, which always comes earlier in the same file.

ADDRESSEE_FILE = "税務/宛名.csv"
ADDRESSEE_COLUMNS: tuple[Column, ...] = (
    _c("税務宛名番号", "number"),
    _c("宛名区分", "kind"),
    _c("宛名番号", "address_number"),
    _c("氏名又は名称", "name"),
    _c("氏名又は名称_フリガナ", "kana"),
    _c("生年月日", "birth_date"),
    _c("住所_郵便番号", "postal_code"),
    _c("住所", "address"),
    _c("法人番号", "corporate_number"),
    _c("代表者_税務宛名番号", "representative_number"),
    _c("登録日時", "created_at", "datetime"),
    _c("登録者", "created_by"),
)

CO_OWNER_FILE = "税務/共有者.csv"
CO_OWNER_COLUMNS: tuple[Column, ...] = (
    _c("共有_税務宛名番号", "group_number"),
    _c("共有者_税務宛名番号", "member_number"),
    _c("持分_分子", "share_numerator", "int"),
    _c("持分_分母", "share_denominator", "int"),
)

CONTACT_FILE = "税務/送付先.csv"
CONTACT_COLUMNS: tuple[Column, ...] = (
    _c("税務宛名番号", "number"),
    _c("業務", "business"),
    _c("送付先区分", "role"),
    _c("氏名又は名称", "name"),
    _c("住所", "address"),
    _c("住所_郵便番号", "postal_code"),
)

_LEDGER_HEAD: tuple[Column, ...] = (
    _c("行番号", "row", "int"),
    _c("所有者_税務宛名番号", "owner_number"),
    _c("所在", "location"),
)
_LEDGER_TAIL: tuple[Column, ...] = (
    _c("評価額", "assessed_value", "int"),
    _c("市街化区域フラグ", "in_urbanization_area", "bool"),
    _c("適用開始年度", "valid_from", "int"),
    _c("適用終了年度", "valid_to", "int"),
    _c("異動事由", "change"),
    _c("異動年月日", "changed_on", "date"),
    _c("異動前の行番号", "predecessors", "json"),
    _c("備考", "note"),
    _c("登録日時", "created_at", "datetime"),
    _c("登録者", "created_by"),
)

PARCEL_FILE = "固定資産税/土地.csv"
PARCEL_COLUMNS: tuple[Column, ...] = (
    *_LEDGER_HEAD,
    _c("地番", "lot_number"),
    _c("地目", "land_use"),
    _c("地積", "area", "centi"),
    _c("小規模住宅用地の地積", "small_residential_area", "centi"),
    _c("一般住宅用地の地積", "general_residential_area", "centi"),
    _c("前年度課税標準額", "prior", "json"),
    *_LEDGER_TAIL,
)

BUILDING_FILE = "固定資産税/家屋.csv"
BUILDING_COLUMNS: tuple[Column, ...] = (
    *_LEDGER_HEAD,
    _c("家屋番号", "house_number"),
    _c("種類", "house_kind"),
    _c("構造", "structure"),
    _c("床面積", "floor_area", "centi"),
    _c("居住部分の床面積", "residential_area", "centi"),
    _c("建築年", "built_year", "int"),
    _c("新築年月日", "completed_on", "date"),
    _c("3階建以上耐火フラグ", "fireproof_3plus", "bool"),
    _c("認定長期優良住宅フラグ", "long_life_certified", "bool"),
    _c("貸家フラグ", "rental", "bool"),
    *_LEDGER_TAIL,
)

ASSET_FILE = "固定資産税/償却資産.csv"
ASSET_COLUMNS: tuple[Column, ...] = (
    _c("所有者_税務宛名番号", "owner_number"),
    _c("年度", "fiscal_year", "int"),
    _c("履歴番号", "seq", "int"),
    _c("最新フラグ", "is_current", "bool"),
    _c("課税標準額", "declared_base", "int"),
    _c("申告年月日", "declared_on", "date"),
    _c("備考", "note"),
    _c("登録日時", "created_at", "datetime"),
    _c("登録者", "created_by"),
)

VEHICLE_FILE = "軽自動車税/車両.csv"
VEHICLE_COLUMNS: tuple[Column, ...] = (
    _c("行番号", "row", "int"),
    _c("標識番号", "plate"),
    _c("車種区分", "vehicle_class"),
    _c("用途", "use"),
    _c("初度検査年月", "first_inspection"),
    _c("燃料", "fuel"),
    _c("被けん引車フラグ", "towed", "bool"),
    _c("新規検査年月日", "new_registration", "date"),
    _c("燃費基準達成フラグ", "green_50_standard", "bool"),
    _c("所有者_税務宛名番号", "owner_number"),
    _c("取得年月日", "acquired_on", "date"),
    _c("抹消年月日", "released_on", "date"),
    _c("抹消事由", "release"),
    _c("減免", "exemption", "json"),
    _c("異動前の行番号", "predecessor", "int"),
    _c("備考", "note"),
    _c("登録日時", "created_at", "datetime"),
    _c("登録者", "created_by"),
)

TAX_FILES: tuple[tuple[str, tuple[Column, ...]], ...] = (
    (ADDRESSEE_FILE, ADDRESSEE_COLUMNS),
    (CO_OWNER_FILE, CO_OWNER_COLUMNS),
    (CONTACT_FILE, CONTACT_COLUMNS),
    (PARCEL_FILE, PARCEL_COLUMNS),
    (BUILDING_FILE, BUILDING_COLUMNS),
    (ASSET_FILE, ASSET_COLUMNS),
    (VEHICLE_FILE, VEHICLE_COLUMNS),
)

ALL_FILES = FILES + TAX_FILES


def encode(value: Any, kind: str) -> str:
    """A value as its CSV text (the only place that decides how values are written)."""
    if value is None:
        return ""
    if kind == "bool":
        return "1" if value else "0"
    if kind == "int":
        return str(int(value))
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if kind == "datetime":
        return str(value.isoformat())
    if kind == "date":
        return str(value.isoformat())
    if kind == "centi":  # 0.01 units (㎡) as a decimal with two places
        return f"{int(value) // 100}.{int(value) % 100:02d}"
    return str(value)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class CellError(ValueError):
    pass


def decode(text: str, kind: str) -> Any:
    """The value of a CSV cell; raises :class:`CellError` with a Japanese reason."""
    if kind == "bool":
        if text not in ("0", "1"):
            raise CellError("0 か 1 で指定してください")
        return text == "1"
    if kind == "int":
        if text == "":
            return None
        if not text.isdigit():
            raise CellError("数字で指定してください")
        return int(text)
    if kind == "json":
        try:
            return json.loads(text) if text else None
        except json.JSONDecodeError:
            raise CellError("JSON として読めません") from None
    if kind == "datetime":
        from datetime import datetime

        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise CellError("日時（ISO 8601）として読めません") from None
        if value.tzinfo is None:
            raise CellError("日時にはタイムゾーンが必要です")
        return value
    if kind == "date":
        from datetime import date

        if text == "":
            return None
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise CellError("暦にある日付（YYYY-MM-DD）で指定してください") from None
    if kind == "centi":
        if text == "":
            return None
        whole, dot, part = text.partition(".")
        if not (
            (whole + part).isascii()
            and whole.isdigit()
            and dot
            and len(part) == 2
            and part.isdigit()
        ):
            raise CellError("小数点以下2桁の数（例 123.45）で指定してください")
        return int(whole) * 100 + int(part)
    return text


def write_csv(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
