"""Account endpoints: SMS codes, API tokens for residents and staff, who am I."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest
from ninja import Field, Router, Schema

from linli.accounts.models import User
from linli.accounts.scopes import active_memberships
from linli.accounts.services import AccountError, api_token_create, sms_code_request
from linli.core.api import ApiError, ErrorOut, session_or_token
from linli.security import signin
from linli.security.audit_hook import audit_record
from linli.security.models import AuditResult
from linli.security.ratelimit import rate_limit_enforce

router = Router(tags=["accounts"])


class SmsCodeIn(Schema):
    phone: str = Field(..., min_length=5, max_length=20)


class SmsCodeOut(Schema):
    sent: bool
    expires_in: int


@router.post("/sms-code", response={200: SmsCodeOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut}, auth=None)
def sms_code(request: HttpRequest, payload: SmsCodeIn) -> Any:
    """Send a sign-in code to a mainland mobile phone (≤ 1 per minute, ≤ 10 per day)."""
    rate_limit_enforce(request, rule="sms_code")
    try:
        sms_code_request(phone=payload.phone)
    except AccountError as exc:
        status = 429 if exc.code in {"sms_too_frequent", "sms_daily_limit"} else 400
        raise ApiError(exc.code, exc.message, status=status) from exc
    return {"sent": True, "expires_in": 300}


class TokenIn(Schema):
    username: str | None = Field(None, max_length=150)
    password: str | None = Field(None, max_length=128)
    phone: str | None = Field(None, max_length=20)
    sms_code: str | None = Field(None, max_length=10)
    otp_token: str | None = Field(
        None, max_length=12, description="staff: the authenticator's 6 digits or an 8-digit backup code"
    )
    name: str = Field("app", max_length=50)


class TokenOut(Schema):
    token: str
    expires_at: str


@router.post(
    "/token", response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut}, auth=None
)
def token(request: HttpRequest, payload: TokenIn) -> Any:
    """Exchange staff credentials (+ second factor in production), or a phone and its SMS code, for a
    bearer token. Failures count toward the lockout like the sign-in page's (429 ``locked_out``)."""
    rate_limit_enforce(request, rule="login")
    if payload.username and payload.password:
        user = authenticate(request, username=payload.username, password=payload.password)
        credentials = {"username": payload.username}
    elif payload.phone and payload.sms_code:
        user = authenticate(request, phone=payload.phone, sms_code=payload.sms_code)
        credentials = {"phone": payload.phone}
    else:
        raise ApiError("missing_credentials", "请提供用户名和密码,或手机号和验证码", status=400)
    if user is None:
        raise ApiError("invalid_credentials", "账号、密码或验证码不正确", status=401)
    if signin.otp_required(user):
        # A token is a session too: staff pass the second factor here as on the sign-in page (AU-2).
        if signin.totp_device(user) is None:
            raise ApiError("otp_enrolment_required", "请先在网页上登录并绑定动态口令", status=403)
        if not payload.otp_token:
            raise ApiError("otp_required", "请提供动态口令", status=401)
        if signin.is_locked_out(request, credentials):
            raise ApiError("locked_out", signin.lockout_message(), status=429)
        if not signin.otp_verify_token(request, user=user, token=payload.otp_token):
            raise ApiError("invalid_otp", "动态口令或备用码不正确", status=401)
    signin.signin_completed(request, credentials)
    row, raw = api_token_create(user=user, name=payload.name)
    # No session login() here, so the sign-in's audit row is written here (AUD-1).
    audit_record(
        action="auth.login",
        actor=user,
        obj=None,
        result=AuditResult.OK,
        data={"factor": "sms" if payload.phone else "password", "channel": "api_token"},
        request=request,
    )
    return {"token": raw, "expires_at": row.expires_at.isoformat()}


class MembershipOut(Schema):
    role: str
    role_label: str
    anchor: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    kind: str
    memberships: list[MembershipOut]


@router.get("/me", response=MeOut, auth=session_or_token)
def me(request: HttpRequest) -> Any:
    user: User = request.user  # type: ignore[assignment]
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "kind": user.kind,
        "memberships": [
            {
                "role": m.role,
                "role_label": m.get_role_display(),
                "anchor": str(m.region or m.grid or m.unit or "全局"),
            }
            for m in active_memberships(user)
        ],
    }
