"""Operator screen: backups per municipality (times and kinds only, never contents)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from moyai.operations.backup import selectors
from moyai.operations.backup.targets import configured_targets
from moyai.platform.models import Role
from moyai.platform.permissions import require_role


@require_role(Role.OPERATOR)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    targets = configured_targets()
    return render(
        request,
        "backup/overview.html",
        {"rows": selectors.backup_overview(targets=targets), "targets": [t.name for t in targets]},
    )
