"""Session policy, checked on every request after authentication (AU-2, AU-3, AU-4, AU-6).

1. Timeouts: staff sessions end after 15 minutes without a request or 12 hours after sign-in; residents'
   after 7 days idle or 30 days (all configurable in settings). Sign-in stamps the session and caps its
   database row and cookie just past the absolute limit, a backstop should this middleware be skipped.
2. Second factor: a staff session that has not passed TOTP reaches only the second-factor pages and
   sign-out. This holds whichever way the session was made (our sign-in, the admin, a future password
   reset view), so no path bypasses it.
3. Password age: when LINLI_STAFF_PASSWORD_MAX_AGE_DAYS is set, an expired staff password leads to the
   change-password page first.
Session key rotation on sign-in is Django's ``login()``; passing the second factor rotates it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.security.passwords import password_expired
from linli.security.signin import OTP_PASSED_SESSION_KEY, otp_required, totp_device

AUTH_AT = "linli_auth_at"  # epoch seconds of the sign-in
SEEN_AT = "linli_seen_at"  # epoch seconds of the last request (to SEEN_RESOLUTION)
PASSWORD_OK = "linli_password_ok"  # noqa: S105 - a session key: this session passed the password-age check
# Write the last-seen stamp at most once a minute: a session write per request would cost a query each.
SEEN_RESOLUTION = 60
BACKSTOP_SECONDS = 600


def session_limits(user: Any) -> tuple[int, int]:
    """(idle seconds, absolute seconds) for this user's sessions."""
    if getattr(user, "is_resident", False):
        return (
            settings.LINLI_RESIDENT_SESSION_IDLE_DAYS * 86400,
            settings.LINLI_RESIDENT_SESSION_MAX_DAYS * 86400,
        )
    return settings.LINLI_STAFF_SESSION_IDLE_MINUTES * 60, settings.LINLI_STAFF_SESSION_MAX_HOURS * 3600


@receiver(user_logged_in, dispatch_uid="linli_session_stamp")
def session_stamp(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Every sign-in starts both clocks and caps the session row and cookie at the absolute limit."""
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session.pop(PASSWORD_OK, None)
    _idle, absolute = session_limits(user)
    # The row and cookie outlive the limit by a few minutes only so that the middleware, not a silent
    # expiry, ends the session: it audits why and sends the person back to the sign-in page.
    request.session.set_expiry(timezone.now() + timedelta(seconds=absolute + BACKSTOP_SECONDS))


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _login_url(user: Any) -> str:
    return reverse("accounts:phone_login" if getattr(user, "is_resident", False) else "accounts:login")


def _with_next(url: str, request: HttpRequest) -> str:
    if request.method == "GET" and not _is_api(request):
        return f"{url}?{urlencode({'next': request.get_full_path()})}"
    return url


class SessionPolicyMiddleware:
    """After AuthenticationMiddleware and django-otp's OTPMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        refusal = (
            self._timeout(request, user)
            or self._second_factor(request, user)
            or self._password(request, user)
        )
        return refusal or self.get_response(request)

    # 1. idle and absolute timeouts
    def _timeout(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        session = request.session
        now = time.time()
        auth_at, seen_at = session.get(AUTH_AT), session.get(SEEN_AT)
        if not isinstance(auth_at, int | float) or not isinstance(seen_at, int | float):
            # A session made before these stamps existed: its clocks start now.
            session[AUTH_AT] = session[SEEN_AT] = now
            return None
        idle, absolute = session_limits(user)
        reason = (
            "absolute_timeout" if now - auth_at > absolute else "idle_timeout" if now - seen_at > idle else ""
        )
        if not reason:
            if now - seen_at >= SEEN_RESOLUTION:
                session[SEEN_AT] = now
            return None
        request._linli_logout_reason = reason  # type: ignore[attr-defined]  # read by the audit handler
        logout(request)
        message = _("登录已超时,请重新登录。")
        if _is_api(request):
            return JsonResponse({"code": "session_expired", "message": message}, status=401)
        messages.info(request, message)
        return HttpResponseRedirect(_with_next(_login_url(user), request))

    # 2. the staff second factor
    def _second_factor(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        if not otp_required(user) or getattr(user, "is_verified", lambda: False)():
            return None
        if request.session.get(OTP_PASSED_SESSION_KEY):
            # This session passed the second factor with an authenticator that is gone (the security admin
            # reset it after a lost phone, or it was replaced elsewhere). Enrolling a new one must start
            # from the password, not from a session someone else may hold.
            request._linli_logout_reason = "otp_reset"  # type: ignore[attr-defined]  # for the audit row
            logout(request)
            message = _("动态口令已被重置,请重新登录并绑定新的动态口令。")
            if _is_api(request):
                return JsonResponse({"code": "session_expired", "message": message}, status=401)
            messages.info(request, message)
            return HttpResponseRedirect(_with_next(_login_url(user), request))
        if request.path.startswith(_otp_open_paths()):
            return None
        if _is_api(request):
            return JsonResponse({"code": "otp_required", "message": _("请先完成动态口令验证。")}, status=401)
        target = "accounts:otp_verify" if totp_device(user) is not None else "accounts:otp_setup"
        return HttpResponseRedirect(_with_next(reverse(target), request))

    # 3. password age
    def _password(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        if not settings.LINLI_STAFF_PASSWORD_MAX_AGE_DAYS or request.session.get(PASSWORD_OK):
            return None
        if not password_expired(user):
            request.session[PASSWORD_OK] = True
            return None
        if request.path.startswith((reverse("accounts:password_change"), *_otp_open_paths())):
            return None
        message = _("密码已超过有效期,请先修改密码。")
        if _is_api(request):
            return JsonResponse({"code": "password_expired", "message": message}, status=403)
        messages.warning(request, message)
        return HttpResponseRedirect(_with_next(reverse("accounts:password_change"), request))


def _otp_open_paths() -> tuple[str, ...]:
    """What a signed-in staff member may reach before the second factor: its pages, sign-out, assets."""
    return (
        reverse("accounts:otp_verify"),
        reverse("accounts:otp_setup"),
        reverse("accounts:logout"),
        settings.STATIC_URL or "/static/",
    )
