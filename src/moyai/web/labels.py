"""Japanese labels for codes that are stored as they are: roles, the audit log's target types,
channels and detail keys, and the usernames of commands and background tasks.

The stored values stay English identifiers (they are hashed into the audit chain and exchanged
with other systems); only the screens translate them. An unknown value is shown as it is, so a
new target type is never hidden, only untranslated until it is added here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moyai.platform.models import Role

# Every ``target_type`` the project writes to the audit log (``audit_record(target_type=…)``,
# including the ``subject_type`` of issued documents and the names built from a prefix).
TARGET_TYPES: dict[str, str] = {
    "audit_log": "監査ログ",
    "backup": "バックアップ",
    "backup_prune": "バックアップの削除（保存期間）",
    "backup_restore": "バックアップからの復元",
    "backup_verify": "バックアップの検証",
    "billing_council": "協議会",
    "billing_membership": "協議会への参加",
    "billing_pool": "費用プール",
    "billing_statement": "負担金請求明細",
    "disaster": "災害",
    "disaster_dwelling": "住家",
    "disaster_dwelling_list": "住家の一覧",
    "disaster_gap_report": "支援漏れの確認",
    "disaster_household": "被災世帯",
    "disaster_ledger": "被災者台帳",
    "disaster_ledger_request": "被災者台帳の作成依頼",
    "disaster_payment": "支援の支払",
    "disaster_programme": "支援制度",
    "disaster_safety_inquiry": "安否照会",
    "disaster_shelter": "避難所",
    "disaster_shelter_stay": "避難所の入退所",
    "disaster_victim": "被災者",
    "disaster_victim_search": "被災者の検索",
    "employer": "特別徴収義務者",
    "event_feed": "イベント連携",
    "gaiji": "外字",
    "gaiji_queue": "外字の同定待ち",
    "household": "世帯",
    "light_vehicle": "軽自動車",
    "light_vehicle_search": "軽自動車の検索",
    "light_vehicle_tax_assessment_run": "軽自動車税の賦課（一括）",
    "light_vehicle_tax_parameters": "軽自動車税の税率等",
    "municipality": "団体",
    "municipality_profile": "団体の設定",
    "person": "住民",
    "property_asset_declaration": "償却資産の申告",
    "property_building": "家屋",
    "property_parcel": "土地",
    "property_parcel_search": "土地の検索",
    "property_tax_assessment": "固定資産税の賦課",
    "property_tax_assessment_run": "固定資産税の賦課（一括）",
    "property_tax_parameters": "固定資産税の税率等",
    "registry_count": "住民数の集計",
    "registry_export": "標準レイアウトの出力",
    "registry_extract": "住民記録の抽出",
    "registry_import": "標準レイアウトの取込み",
    "resident_search": "住民の検索",
    "resident_tax_assessment": "個人住民税の賦課",
    "resident_tax_assessment_run": "個人住民税の賦課（一括）",
    "resident_tax_document": "課税資料",
    "resident_tax_documents": "課税資料の受付",
    "resident_tax_parameters": "住民税の税率等",
    "resident_tax_queue": "課税資料の名寄せ",
    "signing_key": "署名鍵",
    "staff": "職員",
    "support_grant": "応援権限",
    "tax_addressee": "税務宛名",
    "tax_addressee_search": "税務宛名の検索",
}

# ``Actor.channel``: how the act reached the system.
CHANNELS: dict[str, str] = {"web": "画面", "api": "API", "cli": "コマンド", "task": "自動処理"}

# ``Actor.username`` prefixes of non-staff actors (``cli:<OS user>``, ``task:<function>``,
# ``public:<page>``); staff are shown by their username.
ACTOR_KINDS: dict[str, str] = {"cli": "コマンド", "task": "自動処理", "public": "公開画面"}

# The most frequent keys of ``AuditEvent.detail``; others are shown as they are.
DETAIL_KEYS: dict[str, str] = {
    "after": "変更後",
    "amount": "金額",
    "as_of": "基準日",
    "before": "変更前",
    "changed": "変更した項目",
    "count": "件数",
    "counts": "件数",
    "council": "協議会",
    "expires_at": "終了日時",
    "fiscal_year": "年度",
    "found": "該当件数",
    "hits": "該当件数",
    "items": "記載事項",
    "kind": "種類",
    "month": "月",
    "name": "名称",
    "note": "備考",
    "person_id": "住民ID",
    "persons": "住民",
    "query": "検索条件",
    "reason": "理由",
    "requested_by": "依頼者",
    "requester": "請求者",
    "roles": "権限",
    "rows": "行",
    "serial": "証明書番号",
    "starts_at": "開始日時",
    "total": "合計",
}


def role_label(value: str) -> str:
    """``"disaster"`` → 被災者支援; an unknown value as it is."""
    try:
        return str(Role(value).label)
    except ValueError:
        return str(value)


def role_labels(values: Iterable[str] | None) -> list[str]:
    return [role_label(v) for v in values or ()]


def target_type_label(value: str) -> str:
    return TARGET_TYPES.get(value, value)


def channel_label(value: str) -> str:
    return CHANNELS.get(value, value)


def actor_label(username: str) -> str:
    """``cli:demo`` → コマンド（demo）, ``task:moyai.x.tasks.close_month`` →
    自動処理（close_month）; a staff username as it is."""
    kind, sep, who = (username or "").partition(":")
    if not sep or kind not in ACTOR_KINDS:
        return username or ""
    if kind == "task":
        who = who.rsplit(".", 1)[-1]
    return f"{ACTOR_KINDS[kind]}（{who}）" if who else ACTOR_KINDS[kind]


@dataclass(frozen=True)
class DetailRow:
    key: str
    label: str  # Japanese label, or the key itself when there is none
    text: str
    structured: bool  # ``text`` is indented JSON (a nested value)


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if value is True:
        return "はい"
    if value is False:
        return "いいえ"
    return str(value)


def detail_rows(detail: Mapping[str, Any] | None) -> list[DetailRow]:
    """The audit row's ``detail`` as key/value rows: scalars as text, nested values as JSON
    (indented, Japanese unescaped), in the order they were recorded."""
    rows = []
    for key, value in (detail or {}).items():
        if isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(v, dict | list) for v in value)
        ):
            text, structured = json.dumps(value, ensure_ascii=False, indent=2), True
        elif isinstance(value, list):
            text, structured = json.dumps(value, ensure_ascii=False), False
        else:
            text, structured = _scalar(value), False
        rows.append(DetailRow(str(key), DETAIL_KEYS.get(str(key), str(key)), text, structured))
    return rows
