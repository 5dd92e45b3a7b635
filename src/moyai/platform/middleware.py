"""Sets who is acting and for which municipality, for every request.

Runs after authentication and OTP verification. A staff member acts for their own municipality
with their own roles, or — when they have entered an active 応援 grant — for the host
municipality with the grant's roles. Platform operators act for no municipality. The request is
handled inside :func:`tenant_context`, i.e. in one transaction that is rolled back on a 5xx.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from moyai.platform import selectors
from moyai.platform.audit import Actor, acting_as
from moyai.platform.models import Role
from moyai.platform.tenancy import tenant_context

logger = logging.getLogger("moyai.security")

SESSION_GRANT_KEY = "moyai_support_grant_id"


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def is_verified(request: HttpRequest) -> bool:
    """Signed in with both factors (or with an API token issued after signing in so)."""
    user: Any = request.user
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(request, "api_token", None) is not None:
        return True
    verified = getattr(user, "is_verified", None)
    return bool(verified and verified())


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        req: Any = request
        req.tenant = None
        req.municipality = None
        req.staff_roles = frozenset()
        req.support_grant = None
        if request.path.startswith("/api/"):
            token = selectors.api_token_from_header(request.META.get("HTTP_AUTHORIZATION", ""))
            if token is not None:
                req.user = token.user
                req.api_token = token
        if not is_verified(request):
            return self.get_response(request)

        user: Any = request.user
        roles = selectors.staff_roles(user=user)
        if Role.OPERATOR in roles:
            req.staff_roles = frozenset({Role.OPERATOR})
            with acting_as(
                Actor(
                    username=user.username,
                    user_id=user.pk,
                    channel="web",
                    source_ip=client_ip(request),
                )
            ):
                return self.get_response(request)

        municipality = user.municipality
        grant = None
        grant_id = request.session.get(SESSION_GRANT_KEY) if hasattr(request, "session") else None
        if grant_id is not None and getattr(req, "api_token", None) is None:
            grant = selectors.active_grant_for(user=user, grant_id=int(grant_id))
            if grant is None:
                request.session.pop(SESSION_GRANT_KEY, None)
            else:
                municipality = grant.host
                roles = frozenset(Role(r) for r in grant.roles)
        if municipality is None:
            logger.warning("staff %s has no municipality", user.username)
            return self.get_response(request)

        req.municipality = municipality
        req.staff_roles = roles
        req.support_grant = grant
        actor = Actor(
            username=user.username,
            user_id=user.pk,
            channel="api" if request.path.startswith("/api/") else "web",
            municipality_code=user.municipality.code if user.municipality else "",
            support_grant_id=grant.pk if grant else None,
            source_ip=client_ip(request),
        )
        with acting_as(actor), tenant_context(municipality) as tenant:
            req.tenant = tenant
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response
