"""The documents 固定資産税 issues on the document engine (numbered, signed, verifiable)."""

from __future__ import annotations

from moyai.documents.kinds import register_kind

TAX_NOTICE = register_kind("property_tax.notice", "固定資産税・都市計画税 納税通知書（課税明細書）")
