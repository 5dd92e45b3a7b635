"""The certificates the registry issues on the document engine."""

from __future__ import annotations

from moyai.documents.kinds import register_kind

RESIDENT_COPY = register_kind("registry.resident_copy", "住民票の写し")
REMOVED_COPY = register_kind("registry.removed_copy", "除票の写し")
ITEM_CERTIFICATE = register_kind("registry.item_certificate", "住民票記載事項証明書")

DEFAULT_STATEMENTS = {
    "household": "この写しは、世帯全員の住民票の原本と相違ないことを証明する。",
    "selected": "この写しは、住民票の原本と相違ないことを証明する。",
    REMOVED_COPY.code: "この写しは、除票の原本と相違ないことを証明する。",
    ITEM_CERTIFICATE.code: "上記の事項は、住民票に記載されていることを証明する。",
}
