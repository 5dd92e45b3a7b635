"""Role checks for views: least privilege per 業務."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from moyai.platform.middleware import is_verified
from moyai.platform.models import Role

View = Callable[..., HttpResponse]


def require_role(*roles: Role) -> Callable[[View], View]:
    """Allow the view only to verified staff holding one of ``roles`` in the acting tenant."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not is_verified(request):
                return redirect_to_login(request.get_full_path())
            held: frozenset[Role] = getattr(request, "staff_roles", frozenset())
            if not held & set(roles):
                raise PermissionDenied("この業務の権限がありません")
            if Role.OPERATOR not in roles and getattr(request, "tenant", None) is None:
                raise PermissionDenied("団体が設定されていません")
            return view(request, *args, **kwargs)

        wrapped.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator


def require_verified(view: View) -> View:
    """Any verified staff member (e.g. the home screen)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_verified(request):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped
