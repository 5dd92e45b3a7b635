from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from moyai.platform.models import Role
from moyai.web.menu import items_for


def shell(request: HttpRequest) -> dict[str, Any]:
    req: Any = request
    roles: frozenset[Role] = getattr(req, "staff_roles", frozenset())
    return {
        "shell_municipality": getattr(req, "municipality", None),
        "shell_grant": getattr(req, "support_grant", None),
        "shell_roles": sorted(r.label for r in roles),
        "shell_menu": items_for(roles),
    }
