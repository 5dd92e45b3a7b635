"""バックアップ・復元: per-tenant, encrypted, content-addressed backups of one municipality."""
