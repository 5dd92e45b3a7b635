"""``moyai documents``: signing-key maintenance (see :mod:`moyai.documents.signing`).

* ``moyai documents keys [-m CODE]`` — list the signing keys and their certificates' SHA-256;
* ``moyai documents rotate-key -m CODE --reason "…"`` — retire the key in use, create the next;
* ``moyai documents rewrap-keys [-m CODE]`` — re-encrypt keys in use with the first KEK of
  ``MOYAI_DOCUMENT_KEY`` (after a KEK rotation).
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from moyai.documents import selectors, services
from moyai.platform.errors import ServiceError
from moyai.platform.management.base import MunicipalityCommand
from moyai.platform.tenancy import tenant_context


class Command(MunicipalityCommand):
    help = "証明書の署名鍵の一覧・更新・再暗号化 (document signing keys)."
    municipality_required = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["keys", "rotate-key", "rewrap-keys"])
        parser.add_argument("--reason", default="", help="鍵を更新する理由（rotate-key）")
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rotate-key" and not options.get("municipality"):
            raise CommandError("rotate-key には --municipality（団体コード）が必要です")
        for m in self.municipalities(options):
            try:
                with tenant_context(m):
                    if action == "keys":
                        self._list(m.code, m.name)
                    elif action == "rotate-key":
                        key = services.signing_key_rotate(reason=options["reason"])
                        self.stdout.write(
                            f"{m.code} {m.name}: 署名鍵を第{key.version}版に更新しました  "
                            f"証明書 SHA-256 {key.certificate_sha256}"
                        )
                    else:
                        n = services.signing_keys_rewrap()
                        self.stdout.write(f"{m.code} {m.name}: 再暗号化 {n} 件")
            except ServiceError as exc:
                field = f"{exc.field}: " if exc.field else ""
                raise CommandError(f"{m.code}: {field}{exc.message}") from exc

    def _list(self, code: str, name: str) -> None:
        keys = selectors.signing_keys()
        if not keys:
            self.stdout.write(f"{code} {name}: 署名鍵はまだありません（最初の発行時に作成）")
        for key in keys:
            state = f"使用終了 {key.retired_at:%Y-%m-%d}" if key.retired_at else "使用中"
            self.stdout.write(
                f"{code} {name}: 第{key.version}版 {state}  有効期限 {key.not_after:%Y-%m-%d}  "
                f"証明書 SHA-256 {key.certificate_sha256}"
            )
