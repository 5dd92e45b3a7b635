"""``moyai backup``: per-tenant backups (run, --all, list, verify, prune, rekey, extract, keygen,
plan). See docs/backup.md."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from moyai.operations.backup import rules, selectors, services
from moyai.operations.backup.keys import BackupKeyError, new_master_key
from moyai.operations.backup.locks import TenantBusy
from moyai.operations.backup.management.commands.restore import parse_at
from moyai.platform.errors import ServiceError
from moyai.platform.management.base import MunicipalityCommand

ACTIONS = ("run", "list", "verify", "prune", "rekey", "extract", "keygen", "plan")


class Command(MunicipalityCommand):
    help = "団体ごとのバックアップ（暗号化・重複排除）。docs/backup.md を参照。"
    municipality_required = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", nargs="?", default="run", choices=ACTIONS)
        parser.add_argument("directory", nargs="?", type=Path, help="extract の出力先")
        parser.add_argument("--all", action="store_true", help="すべての団体を夜間タスクとして登録")
        parser.add_argument(
            "--now",
            action="store_true",
            help="--all をタスクにせずその場で実行（夜間タスクと同じく、バックアップの後に保存期間"
            "を適用）",
        )
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--full", action="store_const", dest="kind", const="full")
        kind.add_argument("--incremental", action="store_const", dest="kind", const="incremental")
        parser.add_argument("--snapshot", help="スナップショットの識別子")
        parser.add_argument("--at", help="この日時以前の最新（extract）")
        parser.add_argument("--no-scratch", action="store_true", help="verify: 復元比較をしない")
        parser.add_argument("--daily", type=int, default=14)
        parser.add_argument("--monthly", type=int, default=12)
        parser.add_argument("--window-hours", type=float, default=6.0)
        parser.add_argument(
            "--link-mbps",
            type=float,
            default=rules.seed_link_bits_per_second() / 1e6,
            help="回線速度 Mbit/s（既定: 資料の 300MB/15分 ≈ 2.67）",
        )
        parser.add_argument("--read-seconds", type=float, help="plan: 1団体の読み出し秒数")
        parser.add_argument("--upload-bytes", type=int, help="plan: 1団体の送信バイト数")
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="同じ団体の別の処理が実行中なら、この秒数まで終わるのを待つ（既定: 待たずに中止）",
        )
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=services.PRUNE_GRACE.total_seconds() / 3600,
            help="prune: この時間内に書かれたチャンクは参照がなくても消さない（既定 24）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"do_{action}")(options)
        except TenantBusy as exc:
            raise CommandError(f"{exc.message}（--wait 秒数 で待てます）") from None
        except (ServiceError, BackupKeyError) as exc:
            raise CommandError(str(exc)) from None

    def _one(self, options: dict[str, Any]) -> Any:
        if not options.get("municipality"):
            raise CommandError("--municipality CODE を指定してください")
        return self.municipalities(options)[0]

    def do_keygen(self, options: dict[str, Any]) -> None:
        self.stdout.write(new_master_key())

    def do_run(self, options: dict[str, Any]) -> None:
        if options["all"]:
            towns = self.municipalities({})
            if options["now"]:
                self._all_now(towns, options)
                return
            codes = services.enqueue_all(municipalities=towns)
            self.stdout.write(f"{len(codes)} 団体のバックアップをタスクとして登録しました")
            return
        town = self._one(options)
        result = services.backup_tenant(
            municipality=town, kind=options["kind"] or "auto", wait=options["wait"]
        )
        self._report(result, town.code)

    def _all_now(self, towns: list[Any], options: dict[str, Any]) -> None:
        """What the nightly tasks do (backup, then retention), one municipality after another;
        one that is busy or fails does not stop the others."""
        skipped: list[str] = []
        failed: list[str] = []
        for town in towns:
            try:
                result = services.backup_nightly(municipality=town, wait=options["wait"])
            except TenantBusy as exc:
                # As the nightly task does: skip it, go on with the others.
                self.stderr.write(f"飛ばしました: {exc.message}")
                skipped.append(town.code)
                continue
            except (ServiceError, BackupKeyError) as exc:
                self.stderr.write(f"失敗しました: 団体 {town.code}: {exc}")
                failed.append(town.code)
                continue
            self._report(result.backup, town.code)
            if result.prune is None:
                self.stderr.write(
                    f"団体 {town.code} の保存期間の削除を飛ばしました: {result.prune_skipped}"
                )
            else:
                self.stdout.write(
                    f"{town.code} 保存期間: 保持 {len(result.prune.kept)} 件、"
                    f"削除 {len(result.prune.deleted_snapshots)} 件"
                    f"（チャンク {result.prune.deleted_chunks} 件）"
                )
        if skipped:
            self.stderr.write(
                f"{len(skipped)} 団体（{'、'.join(skipped)}）は実行中の処理があったため飛ばしました"
            )
        if failed:
            raise CommandError(
                f"{len(failed)} 団体（{'、'.join(failed)}）のバックアップが失敗しました"
                "（理由は上に表示しました）"
            )

    def _report(self, result: services.BackupResult, code: str) -> None:
        s = result.stats
        note = "（前回から変更なし）" if result.unchanged else ""
        self.stdout.write(
            f"{code} {result.snapshot_id} {result.kind}{note}: 行 {sum(result.rows.values())}、"
            f"チャンク {s.chunks}（新規 {s.new_chunks}）、保存 {s.stored_bytes} バイト、"
            f"{result.seconds:.1f} 秒"
        )

    def do_list(self, options: dict[str, Any]) -> None:
        town = self._one(options)
        for row in selectors.snapshot_list(municipality_code=town.code):
            self.stdout.write(f"{row.taken_at.isoformat()}  {row.kind:<11}  {row.id}")

    def do_verify(self, options: dict[str, Any]) -> None:
        town = self._one(options)
        result = services.backup_verify(
            municipality_code=town.code,
            snapshot=options["snapshot"],
            scratch=not options["no_scratch"],
            wait=options["wait"],
        )
        self.stdout.write(
            f"スナップショット {result.checked_snapshots} 件・チャンク {result.checked_chunks} 件を"
            f"読み戻し、{result.tables_compared} 表を作業用データベースで照合しました"
        )
        for note in result.notes:
            self.stdout.write(f"注意: {note}")
        for problem in result.problems:
            self.stderr.write(f"問題: {problem}")
        if not result.ok:
            raise CommandError(f"検証で {len(result.problems)} 件の問題が見つかりました")
        self.stdout.write(f"正常: {result.snapshot_id}")

    def do_prune(self, options: dict[str, Any]) -> None:
        town = self._one(options)
        if options["grace_hours"] < 0:
            raise CommandError("--grace-hours は 0 以上で指定してください")
        result = services.backup_prune(
            municipality_code=town.code,
            daily=options["daily"],
            monthly=options["monthly"],
            grace=timedelta(hours=options["grace_hours"]),
            wait=options["wait"],
        )
        recent = (
            f"、{options['grace_hours']:g} 時間以内に書かれた未参照のチャンク "
            f"{result.recent_chunks} 件は次回に削除"
            if result.recent_chunks
            else ""
        )
        self.stdout.write(
            f"保持 {len(result.kept)} 件、削除 {len(result.deleted_snapshots)} 件"
            f"（チャンク {result.deleted_chunks} 件{recent}）"
        )

    def do_rekey(self, options: dict[str, Any]) -> None:
        town = self._one(options)
        result = services.backup_rekey(municipality_code=town.code, wait=options["wait"])
        self.stdout.write(
            f"{len(result.rewritten)} 件を新しい鍵で書き直しました（チャンク {result.chunks} 件）。"
            "moyai backup prune で古いチャンクを削除してください"
        )

    def do_extract(self, options: dict[str, Any]) -> None:
        town = self._one(options)
        if options["directory"] is None:
            raise CommandError("出力先のフォルダを指定してください")
        sid = services.backup_extract(
            municipality_code=town.code,
            directory=options["directory"],
            at=parse_at(options["at"]) if options["at"] else None,
            snapshot=options["snapshot"],
            wait=options["wait"],
        )
        self.stdout.write(f"{sid} の標準レイアウトを {options['directory']} に書き出しました")

    def do_plan(self, options: dict[str, Any]) -> None:
        if options["read_seconds"] is None or options["upload_bytes"] is None:
            raise CommandError("--read-seconds と --upload-bytes（測定値）を指定してください")
        plan = rules.plan_window(
            window_seconds=int(options["window_hours"] * 3600),
            link_bits_per_second=options["link_mbps"] * 1e6,
            read_seconds_per_tenant=options["read_seconds"],
            upload_bytes_per_tenant=options["upload_bytes"],
            workers=options["workers"],
        )
        self.stdout.write(
            f"1団体: 読み出し {plan.read_seconds_per_tenant:.1f} 秒 + 送信 "
            f"{plan.upload_seconds_per_tenant:.1f} 秒（{plan.upload_bytes_per_tenant} バイト）\n"
            f"{options['window_hours']:g} 時間に: 順番に {plan.tenants_serial} 団体、"
            f"並行（読み出しと送信を重ねる）{plan.tenants_pipelined} 団体"
            f"（律速: {'回線' if plan.bottleneck == 'link' else 'サーバー'}）"
        )
