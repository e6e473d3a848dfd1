"""Sign-in hardening around django-axes and django-otp (AU-1, AU-2).

- Lockout: axes counts failures per (username, client IP); after ``AXES_FAILURE_LIMIT`` (5) failures that
  pair is refused - even with the right password - until the cool-off passes. Another IP is unaffected.
  Resident SMS sign-in and wrong second-factor codes count the same way (keyed by the phone's blind
  index / the username), so no path has unlimited guesses.
- Audit: ``AuditingAxesHandler`` writes exactly one ``auth.login`` row per attempt (ok / failed / denied
  when refused by a lockout; ``auth.otp`` for second-factor codes), one ``auth.lockout`` row when a
  lockout starts and one ``auth.logout`` row.
- Second factor: ``otp_required`` says who must pass TOTP; ``otp_verify`` checks a TOTP or a single-use
  backup code and binds the device to the session (django-otp's ``login``).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.security.audit_hook import audit_record
from linli.security.crypto import blind_index
from linli.security.models import AuditResult

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
OTP_PASSED_SESSION_KEY = "linli_otp_passed"


# --- who is asking ------------------------------------------------------------------------------
def client_ip(request: HttpRequest) -> str | None:
    """The client's IP. Behind ``LINLI_TRUSTED_PROXY_COUNT`` proxies it is that many hops from the right
    of X-Forwarded-For (entries further left are whatever the client wrote, so never trusted)."""
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.LINLI_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else remote


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The lockout key's "username": the staff username, or ``phone:<blind index>`` for SMS sign-in, so
    the lockout table never stores a phone number (PI-1)."""
    creds = credentials or {}
    post = request.POST if request is not None and request.method == "POST" else {}
    username = creds.get("username") or post.get("username")
    if username:
        return str(username)[:150]
    phone = creds.get("phone") or post.get("phone")
    if phone:
        from linli.accounts.services import AccountError, phone_normalize

        try:
            phone = phone_normalize(str(phone))
        except AccountError:
            phone = str(phone)[:40]
        return "phone:" + blind_index("phone", phone)
    return None


def cooloff_minutes() -> int:
    cool_off = get_cool_off()
    return max(1, int(cool_off.total_seconds() // 60)) if cool_off else 0


def lockout_message() -> str:
    return _("登录失败次数过多,已暂时锁定。请%(minutes)d分钟后再试,或联系安全管理员解锁。") % {
        "minutes": cooloff_minutes()
    }


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """What a locked-out attempt gets (AXES_LOCKOUT_CALLABLE): JSON for the API, a page otherwise."""
    retry_after = str(cooloff_minutes() * 60)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "locked_out", "message": lockout_message()}, status=429
        )
    else:
        response = render(request, "accounts/locked_out.html", {"message": lockout_message()}, status=429)
    response["Retry-After"] = retry_after
    return response


def is_locked_out(request: HttpRequest, credentials: dict[str, Any]) -> bool:
    return not AxesProxyHandler.is_allowed(request, credentials)


def signin_completed(request: HttpRequest, credentials: dict[str, Any]) -> None:
    """Every factor passed: forget this pair's earlier failures (not before: a right password must not
    reset the count an attacker builds up guessing second-factor codes)."""
    if getattr(settings, "AXES_ENABLED", True):  # axes' default, set by axes.conf at start-up
        AxesProxyHandler.update_request(request)
        AxesProxyHandler.get_implementation().reset_user_attempts(request, credentials)


def signin_failed(request: HttpRequest, *, username: str, factor: str) -> None:
    """Count a failure that did not go through ``authenticate()`` (a wrong second-factor code)."""
    user_login_failed.send(
        sender=__name__, credentials={"username": username, "factor": factor}, request=request
    )


# --- the audited lockout handler ----------------------------------------------------------------
def _factor(credentials: dict[str, Any] | None) -> str:
    creds = credentials or {}
    if creds.get("factor"):
        return str(creds["factor"])
    return "sms" if creds.get("phone") else "password"


class AuditingAxesHandler(AxesDatabaseHandler):
    """axes' database handler, plus one audit row per sign-in result, lockout and sign-out (AU-1, AUD-1)."""

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        was_locked = request is not None and self.is_locked(request, credentials)
        super().user_login_failed(sender, credentials, request, **kwargs)
        username = axes_username(request, credentials) or ""
        factor = _factor(credentials)
        action = "auth.otp" if factor == "otp" else "auth.login"
        data = {"username": username, "factor": factor}
        # A wrong second-factor code comes from someone who already passed the password step.
        actor = getattr(request, "user", None) if factor == "otp" else None
        if was_locked:
            audit_record(
                action=action,
                actor=actor,
                obj=None,
                result=AuditResult.DENIED,
                data={**data, "reason": "locked_out"},
                request=request,
            )
            return
        failures = getattr(request, "axes_failures_since_start", None) if request is not None else None
        audit_record(
            action=action,
            actor=actor,
            obj=None,
            result=AuditResult.FAILED,
            data={**data, "reason": "bad_credentials", "failures": failures},
            request=request,
        )
        if request is not None and getattr(request, "axes_locked_out", False):
            audit_record(
                action="auth.lockout",
                actor=None,
                obj=None,
                result=AuditResult.DENIED,
                data={
                    "username": username,
                    "failures": failures,
                    "limit": get_failure_limit(request, credentials),
                    "cooloff_minutes": cooloff_minutes(),
                },
                request=request,
            )

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        backend = getattr(user, "backend", "") or ""
        factor = "sms" if backend.endswith("PhoneCodeBackend") else "password"
        audit_record(
            action="auth.login",
            actor=user,
            obj=None,
            result=AuditResult.OK,
            data={"factor": factor},
            request=request,
        )

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        super().user_logged_out(sender, request, user, **kwargs)
        if user is not None:
            reason = getattr(request, "_linli_logout_reason", "user")  # or idle_timeout / absolute_timeout
            audit_record(
                action="auth.logout",
                actor=user,
                obj=None,
                result=AuditResult.OK,
                data={"reason": reason},
                request=request,
            )


# --- the second factor --------------------------------------------------------------------------
def otp_required(user: Any) -> bool:
    """Staff accounts must pass TOTP when LINLI_REQUIRE_STAFF_OTP is on (production default)."""
    return bool(
        settings.LINLI_REQUIRE_STAFF_OTP
        and getattr(user, "is_authenticated", False)
        and not getattr(user, "is_resident", False)
    )


def totp_device(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def totp_device_pending(user: Any) -> TOTPDevice:
    """The unconfirmed device being enrolled (made once, so reloading the page keeps the same secret)."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an authenticator that cannot scan."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def backup_codes_issue(user: Any) -> list[str]:
    """Replace the user's backup codes with ``BACKUP_CODE_COUNT`` fresh single-use ones; shown once."""
    codes = [f"{secrets.randbelow(10**8):08d}" for _ in range(BACKUP_CODE_COUNT)]
    with transaction.atomic():
        # The device is kept and only its codes replaced: a session that passed with a backup code stays
        # bound to it (a deleted device would sign that session out).
        device = (
            StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
        )
        if device is None:
            device = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
        StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        StaticToken.objects.filter(device=device).delete()
        StaticToken.objects.bulk_create(
            [StaticToken(device=device, token=backup_code_digest(code)) for code in codes]
        )
    return codes


def backup_code_digest(code: str) -> str:
    """What is stored for a backup code: a keyed hash (64 bits), never the code, so a database dump gives
    no usable second factor. Keyed with SECRET_KEY: rotating it invalidates outstanding codes (re-issue)."""
    return salted_hmac("linli.security.backup_code", code, algorithm="sha256").hexdigest()[:16]


def backup_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def otp_enrol(request: HttpRequest, *, user: Any, token: str) -> list[str] | None:
    """Confirm the pending TOTP device with its first code; returns the new backup codes, or None."""
    token = (token or "").strip().replace(" ", "")
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
        )
        if device is None or not token.isdigit() or not device.verify_token(token):
            audit_record(
                action="auth.otp_enrol", actor=user, obj=None, result=AuditResult.FAILED, request=request
            )
            return None
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()  # one authenticator per account
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = backup_codes_issue(user)
    _bind(request, device)
    audit_record(action="auth.otp_enrol", actor=user, obj=None, result=AuditResult.OK, request=request)
    return codes


def _otp_check(request: HttpRequest, *, user: Any, token: str) -> Any:
    """The device that accepts a 6-digit TOTP or an 8-digit backup code (consumed on use), or None.
    Audited either way; a failure counts toward the lockout like a wrong password."""
    token = (token or "").strip().replace(" ", "").replace("-", "")
    device: Any = None
    kind = "backup_code" if len(token) == 8 else "totp"
    if token.isdigit():
        with transaction.atomic():
            # select_for_update: two requests with one code cannot both pass (django-otp's verify contract).
            model: Any = TOTPDevice if kind == "totp" else StaticDevice
            candidate = model.objects.select_for_update().filter(user=user, confirmed=True).first()
            stored = token if kind == "totp" else backup_code_digest(token)
            if candidate is not None and candidate.verify_token(stored):
                device = candidate
    if device is None:
        # The lockout handler writes this attempt's one audit row (auth.otp, failed).
        signin_failed(request, username=user.get_username(), factor="otp")
        return None
    audit_record(
        action="auth.otp", actor=user, obj=None, result=AuditResult.OK, data={"kind": kind}, request=request
    )
    return device


def otp_verify(request: HttpRequest, *, user: Any, token: str) -> bool:
    """Second factor on the sign-in page: on success the device is bound to this session."""
    device = _otp_check(request, user=user, token=token)
    if device is None:
        return False
    _bind(request, device)
    return True


def otp_verify_token(request: HttpRequest, *, user: Any, token: str) -> bool:
    """Second factor for an API token request (no session to bind)."""
    return _otp_check(request, user=user, token=token) is not None


def _bind(request: HttpRequest, device: Any) -> None:
    otp_login(request, device)
    # Remembered apart from django-otp's device id, which django-otp drops once the device is deleted: a
    # session that had passed and lost its device is signed out (SessionPolicyMiddleware), not re-enrolled.
    request.session[OTP_PASSED_SESSION_KEY] = True
    # A new privilege level gets a new session key, as a sign-in does (AU-4).
    request.session.cycle_key()


# --- the personal-data registry (PI-4) for the lockout library's tables ---------------------------
def _tag_lockout_tables() -> None:
    """axes' tables hold the client IP of sign-in attempts; say why and for how long (the registry reads
    ``pii_fields`` from every model, and these classes are not ours to edit)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from linli.security.pii import PiiTag

    tag = PiiTag(
        category="contact",
        purpose="登录失败锁定(按账号+IP计数)与安全审计",
        retention="锁定冷却期(默认30分钟)满后,下一次登录时清除",
        legal_basis="履行网络安全等级保护义务",
    )
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.pii_fields = {"ip_address": tag}


_tag_lockout_tables()
