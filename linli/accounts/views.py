"""Sign-in for staff (username + password) and residents (phone + SMS code), and sign-out."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.forms import PhoneForm, PhoneLoginForm, StaffLoginForm
from linli.accounts.services import AccountError, sms_code_request


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


@require_http_methods(["GET", "POST"])
def staff_login(request: HttpRequest) -> HttpResponse:
    form = StaffLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
        )
        if user is not None:
            login(request, user)  # rotates the session key
            return redirect(_next_url(request))
        form.add_error(None, _("用户名或密码不正确"))
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def phone_login(request: HttpRequest) -> HttpResponse:
    form = PhoneLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, phone=form.cleaned_data["phone"], sms_code=form.cleaned_data["sms_code"])
        if user is not None:
            login(request, user, backend="linli.accounts.backends.PhoneCodeBackend")
            return redirect(_next_url(request))
        form.add_error("sms_code", _("验证码不正确或已过期"))
    return render(request, "accounts/phone_login.html", {"form": form, "next": _next_url(request)})


@require_POST
def phone_code(request: HttpRequest) -> HttpResponse:
    """htmx: send the SMS code and answer a small status fragment."""
    form = PhoneForm(request.POST)
    message, ok = _("请输入手机号"), False
    if form.is_valid():
        try:
            sms_code_request(phone=form.cleaned_data["phone"])
            message, ok = _("验证码已发送,5分钟内有效"), True
        except AccountError as exc:
            message = exc.message
    status = 200 if ok else 400
    return render(request, "accounts/_code_status.html", {"message": message, "ok": ok}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("core:home")
