"""The HTTP API under /api/v1/: one NinjaAPI, routers contributed by each app.

Authentication is a bearer token (``Authorization: Bearer moyai_…``, for outside systems) or the
staff session (CSRF-checked, TOTP-verified). Every error has the same body:
``{"code": "...", "message": "...", "field": "..."}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security import APIKeyCookie, HttpBearer

from moyai.platform.errors import ServiceError
from moyai.platform.middleware import is_verified


class Utf8JSONRenderer(JSONRenderer):
    """JSON with Japanese text as UTF-8, not \\u escapes (readable by people and tools)."""

    json_dumps_params = {"ensure_ascii": False}


class BearerToken(HttpBearer):
    """Resolved by the tenant middleware; here we only confirm it did."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return getattr(request, "api_token", None)


class StaffSession(APIKeyCookie):
    """The signed-in staff session (password + TOTP), with CSRF protection."""

    param_name = "moyai_session"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if getattr(request, "api_token", None) is None and is_verified(request):
            return request.user
        return None


api = NinjaAPI(
    title="moyai API",
    version="1",
    description="moyai 自治体クラウド基盤の API。団体（テナント）ごとにデータは分離されます。",
    auth=[BearerToken(), StaffSession()],
    urls_namespace="api",
    docs_url="/docs",
    renderer=Utf8JSONRenderer(),
)


def error_body(code: str, message: str, field: str = "", **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, **extra}


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", [])[1:]) or "", "message": e.get("msg")}
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": "入力が正しくありません"}
    return api.create_response(
        request,
        error_body(
            "invalid",
            f"入力が正しくありません: {first['message']}",
            str(first["field"] or ""),
            errors=errors,
        ),
        status=422,
    )


@api.exception_handler(ServiceError)
def _service(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    status = 404 if exc.code == "not_found" else 400
    return api.create_response(request, error_body(exc.code, exc.message, exc.field), status=status)


@api.exception_handler(AuthenticationError)
def _auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        error_body("unauthenticated", "認証が必要です（トークンまたはログイン）"),
        status=401,
    )


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, error_body("forbidden", str(exc) or "この業務の権限がありません"), status=403
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(
        request, error_body("not_found", str(exc) or "見つかりません"), status=404
    )


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, error_body("error", exc.message), status=exc.status_code)


def _register_routers() -> None:
    from moyai.platform.api import router as platform_router

    api.add_router("/", platform_router)
    from moyai.registry.api import router as registry_router

    api.add_router("/", registry_router)
    from moyai.documents.api import router as documents_router

    api.add_router("/", documents_router)
    from moyai.tax.resident.api import router as resident_tax_router

    api.add_router("/", resident_tax_router)
    from moyai.tax.property.api import router as property_tax_router

    api.add_router("/", property_tax_router)
    from moyai.tax.light_vehicle.api import router as light_vehicle_tax_router

    api.add_router("/", light_vehicle_tax_router)
    from moyai.disaster.api import router as disaster_router

    api.add_router("/", disaster_router)
    from moyai.operations.billing.api import router as billing_router

    api.add_router("/", billing_router)


_register_routers()
