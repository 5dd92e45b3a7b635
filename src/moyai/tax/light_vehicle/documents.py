"""The documents 軽自動車税 issues on the document engine."""

from __future__ import annotations

from moyai.documents.kinds import register_kind

TAX_NOTICE = register_kind("light_vehicle_tax.notice", "軽自動車税（種別割）納税通知書")
