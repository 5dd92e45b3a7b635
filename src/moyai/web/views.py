"""The staff shell: sign-in with password and TOTP, home, health."""

from __future__ import annotations

from typing import Any

from django.contrib import auth
from django.contrib.auth import signals
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from moyai.platform import selectors, services
from moyai.platform.middleware import SESSION_GRANT_KEY, client_ip
from moyai.platform.models import Role
from moyai.platform.permissions import require_verified
from moyai.web.forms import LoginForm
from moyai.web.menu import roles_without_screens


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Shown when login throttling has locked the account from this address."""
    return render(request, "web/locked_out.html", status=429)


@never_cache
@csrf_protect
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = auth.authenticate(request, username=username, password=form.cleaned_data["password"])
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        device = None
        if user is not None:
            device = next(
                (
                    d
                    for d in TOTPDevice.objects.devices_for_user(user, confirmed=True)
                    if d.verify_token(form.cleaned_data["otp_token"])
                ),
                None,
            )
            if device is None:
                # A wrong second factor counts as a failed sign-in for throttling.
                signals.user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=request
                )
                if getattr(request, "axes_locked_out", False):
                    return locked_out(request)
        if user is None or device is None:
            error = "ユーザー名、パスワードまたは確認コードが正しくありません"
            form = LoginForm(initial={"username": username})  # never echo the password or code
        else:
            auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            services.login_recorded(user=user, source_ip=client_ip(request))
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = ""
            return redirect(target or "web:home")
    return render(
        request, "web/login.html", {"form": form, "error": error}, status=401 if error else 200
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    return redirect("web:login")


@require_verified
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    grants = selectors.grants_received(user=user)
    roles: frozenset[Role] = getattr(request, "staff_roles", frozenset())
    return render(
        request,
        "web/home.html",
        {"grants_received": grants, "roles_without_screens": roles_without_screens(roles)},
    )


@require_POST
@require_verified
def support_enter(request: HttpRequest, grant_id: int) -> HttpResponse:
    """Start acting for the host municipality of one of the user's own active grants."""
    user: Any = request.user
    grant = selectors.active_grant_for(user=user, grant_id=grant_id)
    if grant is None:
        from django.http import Http404

        raise Http404("応援権限が見つからないか、期間外です")
    services.support_grant_entered(grant=grant)
    request.session[SESSION_GRANT_KEY] = grant.pk
    return redirect("web:home")


@require_POST
@require_verified
def support_exit(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_GRANT_KEY, None)
    return redirect("web:home")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for the load balancer. No tenant data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        db = "ok"
    except Exception:
        db = "error"
    status = 200 if db == "ok" else 503
    return JsonResponse({"status": "ok" if db == "ok" else "error", "database": db}, status=status)
