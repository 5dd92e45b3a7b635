"""The document 割り勘 issues on the document engine (numbered, signed, verifiable)."""

from __future__ import annotations

from moyai.documents.kinds import register_kind

STATEMENT = register_kind("billing.statement", "共同利用負担金 請求明細書")
