"""``moyai demo_code``: print the current demo TOTP code (demo and test profiles only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "デモ職員の現在の確認コードを表示します（デモ環境のみ）。"

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.ENV == "production":
            raise CommandError("本番環境では使えません")
        device = TOTPDevice.objects.filter(user__username="operator").first()
        if device is None:
            raise CommandError("デモ環境が作成されていません（moyai demo）")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():06d}")
