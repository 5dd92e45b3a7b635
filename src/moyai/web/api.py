"""The HTTP API under /api/v1/: one NinjaAPI, routers contributed by each app.

Authentication is a bearer token (``Authorization: Bearer moyai_…``, for outside systems) or the
staff session (CSRF-checked, TOTP-verified). Every error has the same body:
``{"code": "...", "message": "...", "field": "..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
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


# pydantic's error types in Japanese (https://docs.pydantic.dev/latest/errors/validation_errors/).
# ``{name}`` is filled from the error's ``ctx``; a type not listed gets the generic message.
_DATE = "日付を西暦の YYYY-MM-DD で入力してください（例: 2025-04-01）"
_DATETIME = "日時を ISO 8601 形式で入力してください（例: 2025-04-01T09:00:00+09:00）"
_MESSAGES: dict[str, str] = {
    "missing": "必須です",
    "string_type": "文字列で指定してください",
    "string_too_short": "{min_length}文字以上で入力してください",
    "string_too_long": "{max_length}文字以内で入力してください",
    "string_pattern_mismatch": "形式が正しくありません",
    "int_type": "整数で指定してください",
    "int_parsing": "整数で入力してください",
    "int_from_float": "整数で入力してください（小数は使えません）",
    "float_type": "数値で指定してください",
    "float_parsing": "数値で入力してください",
    "decimal_parsing": "数値で入力してください",
    "decimal_type": "数値で指定してください",
    "bool_type": "true または false で指定してください",
    "bool_parsing": "true または false で指定してください",
    "greater_than": "{gt}より大きい値を入力してください",
    "greater_than_equal": "{ge}以上の値を入力してください",
    "less_than": "{lt}より小さい値を入力してください",
    "less_than_equal": "{le}以下の値を入力してください",
    "multiple_of": "{multiple_of}の倍数を入力してください",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "日付には時刻を付けずに YYYY-MM-DD で入力してください",
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "time_parsing": "時刻を HH:MM で入力してください",
    "enum": "次のいずれかを指定してください: {expected}",
    "literal_error": "次のいずれかを指定してください: {expected}",
    "union_tag_invalid": "{discriminator} は次のいずれかを指定してください: {expected_tags}",
    "union_tag_not_found": "{discriminator} を指定してください",
    "list_type": "配列（リスト）で指定してください",
    "dict_type": "オブジェクトで指定してください",
    "model_type": "オブジェクトで指定してください",
    "model_attributes_type": "オブジェクトで指定してください",
    "too_short": "{min_length}件以上指定してください",
    "too_long": "{max_length}件以内で指定してください",
    "json_invalid": "JSON の形式が正しくありません",
    "json_type": "JSON で指定してください",
    "extra_forbidden": "この項目は指定できません",
    "uuid_parsing": "UUID の形式が正しくありません",
    "url_parsing": "URL の形式が正しくありません",
    "bytes_too_long": "{max_length}バイト以内で指定してください",
}
_GENERIC = "入力が正しくありません"


def _message(error: Mapping[str, Any]) -> str:
    """One pydantic error in Japanese. ``value_error`` and ``assertion_error`` carry the
    project's own message (a validator's ``ValueError("…")``): that text is kept as it is."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in {"value_error", "assertion_error"}:
        text = str(ctx.get("error", "")) or str(error.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            text = text.removeprefix(prefix)
        return text or _GENERIC
    template = _MESSAGES.get(kind)
    if template is None:
        return _GENERIC
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "入力してください"
    try:
        return template.format(**{k: _ctx_text(v) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return template.split("{", 1)[0].rstrip(": ") or _GENERIC


def _ctx_text(value: Any) -> str:
    """A ``ctx`` value for a Japanese sentence: ``"'1' or '2'"`` → ``1、2``, ``"'kind'"`` →
    ``kind``."""
    text = str(value).replace("'", "")
    return "、".join(part for chunk in text.split(" or ") for part in chunk.split(", ") if part)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", [])[1:]) or "",
            "message": _message(e),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": _GENERIC}
    message = _GENERIC + (f"（{first['field']}）" if first["field"] else "")
    if first["message"] != _GENERIC:
        message += f": {first['message']}"
    return api.create_response(
        request,
        error_body(
            "invalid",
            message,
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


# The English messages django-ninja raises itself (an unreadable body, a failed CSRF check).
_NINJA_MESSAGES = {
    "Cannot parse request body": "リクエストの本文を読み取れません（JSON の形式を確認）",
    "CSRF check Failed": "セキュリティ確認（CSRF）に失敗しました。ページを再読み込みしてください",
}


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = next(
        (ja for en, ja in _NINJA_MESSAGES.items() if exc.message.startswith(en)), exc.message
    )
    return api.create_response(request, error_body("error", message), status=exc.status_code)


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
