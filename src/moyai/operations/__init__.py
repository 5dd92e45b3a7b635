"""運用: the operator side of the shared deployment (backup/restore, 割り勘 billing, metrics)."""
