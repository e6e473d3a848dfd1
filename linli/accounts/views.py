"""Sign-in for staff (username + password, then TOTP in production) and residents (phone + SMS code),
the second-factor pages, password change and sign-out.

Lockout (django-axes) happens inside ``authenticate()``; a locked-out attempt is answered by
``linli.security.signin.lockout_response`` through axes' middleware. ``linli.security.sessions`` keeps a
staff session that has not passed TOTP on these pages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.forms import OtpTokenForm, PhoneForm, PhoneLoginForm, StaffLoginForm
from linli.accounts.models import Membership, User
from linli.accounts.roles import Role
from linli.accounts.services import AccountError, sms_code_request
from linli.security import signin
from linli.security.audit_hook import audit_record
from linli.security.models import AuditResult
from linli.security.qr import qr_svg
from linli.security.ratelimit import rate_limit
from linli.security.sessions import PASSWORD_OK


def _next_url(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _with_next(name: str, next_url: str) -> str:
    url = reverse(name)
    return f"{url}?{urlencode({'next': next_url})}" if next_url and next_url != "/" else url


def admin_missing() -> bool:
    """No active system administrator yet: a fresh install before ``manage.py linli_create_admin`` (AC-6)."""
    return not (
        User.objects.filter(is_superuser=True, is_active=True).exists()
        or Membership.objects.filter(role=Role.ADMIN, is_active=True, user__is_active=True).exists()
    )


@require_http_methods(["GET", "POST"])
@rate_limit("login")
def staff_login(request: HttpRequest, default_next: str = "/") -> HttpResponse:
    form = StaffLoginForm(request.POST or None)
    next_url = _next_url(request, default=default_next)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is not None:
            login(request, user)  # rotates the session key (AU-4)
            if signin.otp_required(user):
                step = "accounts:otp_verify" if signin.totp_device(user) else "accounts:otp_setup"
                return redirect(_with_next(step, next_url))
            signin.signin_completed(request, {"username": username})
            return redirect(next_url)
        form.add_error(None, _("用户名或密码不正确"))
    context = {
        "form": form,
        "next": next_url,
        "admin_missing": next_url.startswith(reverse("admin:index")) and admin_missing(),
    }
    return render(request, "accounts/login.html", context)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's sign-in is ours, so lockout, the second factor and the first-run notice apply."""
    return staff_login(request, default_next=reverse("admin:index"))


@require_http_methods(["GET", "POST"])
@rate_limit("login")
def phone_login(request: HttpRequest) -> HttpResponse:
    form = PhoneLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        user = authenticate(request, phone=phone, sms_code=form.cleaned_data["sms_code"])
        if user is not None:
            login(request, user, backend="linli.accounts.backends.PhoneCodeBackend")
            signin.signin_completed(request, {"phone": phone})
            return redirect(_next_url(request))
        form.add_error("sms_code", _("验证码不正确或已过期"))
    return render(request, "accounts/phone_login.html", {"form": form, "next": _next_url(request)})


@require_POST
@rate_limit("sms_code")
def phone_code(request: HttpRequest) -> HttpResponse:
    """htmx: send the SMS code and answer a small status fragment."""
    form = PhoneForm(request.POST)
    message, ok = _("请输入手机号"), False
    if form.is_valid():
        try:
            sms_code_request(phone=form.cleaned_data["phone"])
            minutes = max(1, settings.SMS_CODE_TTL_SECONDS // 60)
            message, ok = _("验证码已发送,%(minutes)d分钟内有效") % {"minutes": minutes}, True
        except AccountError as exc:
            message = exc.message
    status = 200 if ok else 400
    if request.headers.get("HX-Request") != "true":
        # Without JavaScript the button submits the whole form here: answer the whole page.
        login_form = PhoneLoginForm(initial={"phone": request.POST.get("phone", "")})
        context = {"form": login_form, "next": _next_url(request), "code_message": message, "code_ok": ok}
        return render(request, "accounts/phone_login.html", context, status=status)
    return render(request, "accounts/_code_status.html", {"message": message, "ok": ok}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the session row: the old cookie is dead (AU-4)
    return redirect("core:home")


# --- the staff second factor (AU-2) -------------------------------------------------------------
def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if getattr(request.user, "is_resident", False):
        return redirect("core:home")
    return None


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("otp")
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: scan the QR code (drawn here, no outside service), confirm with a code."""
    if (refused := _staff_only(request)) is not None:
        return refused
    user: Any = request.user
    next_url = _next_url(request)
    if signin.totp_device(user) is not None:
        # Re-enrolling needs the current authenticator first; otherwise a stolen password could swap it.
        if not user.is_verified():
            return redirect(_with_next("accounts:otp_verify", next_url))
        return redirect("accounts:otp_backup_codes")
    device = signin.totp_device_pending(user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = signin.otp_enrol(request, user=user, token=form.cleaned_data["token"])
        if codes is not None:
            signin.signin_completed(request, {"username": user.get_username()})
            return render(request, "accounts/otp_backup_codes.html", {"codes": codes, "next": next_url})
        form.add_error("token", _("动态口令不正确,请核对手机时间后重试"))
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": qr_svg(device.config_url),
        "secret": signin.totp_secret_text(device),
    }
    return render(request, "accounts/otp_setup.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("otp")
def otp_verify(request: HttpRequest) -> HttpResponse:
    if (refused := _staff_only(request)) is not None:
        return refused
    user: Any = request.user
    next_url = _next_url(request)
    if signin.totp_device(user) is None:
        return redirect(_with_next("accounts:otp_setup", next_url))
    if user.is_verified():
        return redirect(next_url)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credentials = {"username": user.get_username()}
        if signin.is_locked_out(request, credentials):
            logout(request)
            return signin.lockout_response(request)
        if signin.otp_verify(request, user=user, token=form.cleaned_data["token"]):
            signin.signin_completed(request, credentials)
            left = signin.backup_codes_left(user)
            if left <= 3:
                messages.warning(request, _("备用码仅剩%(n)d个,请尽快重新生成。") % {"n": left})
            return redirect(next_url)
        if getattr(request, "axes_locked_out", False):
            logout(request)  # the half-signed-in session dies with the lockout; axes answers 429
            return signin.lockout_response(request)
        form.add_error("token", _("动态口令或备用码不正确"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "POST"])
def otp_backup_codes(request: HttpRequest) -> HttpResponse:
    """See how many backup codes are left; make a fresh set (the old ones stop working)."""
    if (refused := _staff_only(request)) is not None:
        return refused
    user: Any = request.user
    if signin.totp_device(user) is None:
        return redirect("accounts:otp_setup")
    if not user.is_verified():
        return redirect(_with_next("accounts:otp_verify", reverse("accounts:otp_backup_codes")))
    if request.method == "POST":
        codes = signin.backup_codes_issue(user)
        audit_record(action="auth.backup_codes", actor=user, obj=None, result=AuditResult.OK, request=request)
        return render(request, "accounts/otp_backup_codes.html", {"codes": codes, "next": "/"})
    return render(request, "accounts/otp_backup_codes.html", {"left": signin.backup_codes_left(user)})


@login_required
@require_http_methods(["GET", "POST"])
@rate_limit("login")
def password_change(request: HttpRequest) -> HttpResponse:
    if (refused := _staff_only(request)) is not None:
        return refused
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()  # the validators' password_changed hook records the history (AU-6)
            update_session_auth_hash(request, user)
            request.session[PASSWORD_OK] = True
            audit_record(
                action="auth.password_change", actor=user, obj=user, result=AuditResult.OK, request=request
            )
            messages.success(request, _("密码已修改。"))
            return redirect(_next_url(request))
        audit_record(
            action="auth.password_change",
            actor=request.user,
            obj=None,
            result=AuditResult.FAILED,
            request=request,
        )
    return render(request, "accounts/password_change.html", {"form": form, "next": _next_url(request)})
