"""Writes for accounts: SMS codes, resident sign-up on first verified sign-in, API tokens, memberships."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import ApiToken, Membership, PhoneCode, User, UserKind
from linli.accounts.roles import ROLE_SCOPE_KIND, Role, ScopeKind
from linli.accounts.sms import get_sms_backend

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
SMS_PER_MINUTE = 1
SMS_PER_DAY = 10


class AccountError(Exception):
    """A refusal with a machine-readable code and a Chinese message for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def phone_normalize(raw: str) -> str:
    """Accept ``13800138000``, ``+86 138-0013-8000``, ``86 13800138000``; return 11 digits or raise."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MAINLAND_MOBILE.match(digits):
        raise AccountError("invalid_phone", _("请输入正确的11位手机号码"))
    return digits


def _code_hmac(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SmsCodeSent:
    phone: str
    expires_at: object


def sms_code_request(*, phone: str) -> SmsCodeSent:
    """Send a 6-digit code (≤ 1 per minute and ≤ 10 per day per phone); it is valid for 5 minutes."""
    phone = phone_normalize(phone)
    now = timezone.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        # Serialise concurrent requests for one phone: the rate check and the insert are one step.
        recent = list(
            PhoneCode.objects.select_for_update().filter(phone=phone, created_at__gte=now - timedelta(days=1))
        )
        if sum(1 for c in recent if c.created_at >= now - timedelta(seconds=60)) >= SMS_PER_MINUTE:
            raise AccountError("sms_too_frequent", _("验证码发送过于频繁,请一分钟后再试"))
        if len(recent) >= SMS_PER_DAY:
            raise AccountError("sms_daily_limit", _("今日验证码发送次数已达上限"))
        row = PhoneCode.objects.create(
            phone=phone,
            code_hmac=_code_hmac(phone, code),
            expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        )
        text = _("【邻里】您的登录验证码为%(code)s,5分钟内有效。如非本人操作请忽略。") % {"code": code}
        transaction.on_commit(lambda: get_sms_backend().send(phone=phone, text=text))
    return SmsCodeSent(phone=phone, expires_at=row.expires_at)


def sms_code_verify(*, phone: str, code: str) -> bool:
    """Consume the newest unexpired code if it matches; every attempt counts toward the 5 allowed."""
    try:
        phone = phone_normalize(phone)
    except AccountError:
        return False
    now = timezone.now()
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None or row.tries >= settings.SMS_CODE_MAX_TRIES:
            return False
        PhoneCode.objects.filter(pk=row.pk).update(tries=F("tries") + 1)
        if not hmac.compare_digest(row.code_hmac, _code_hmac(phone, (code or "").strip())):
            return False
        PhoneCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
    return True


def resident_for_verified_phone(*, phone: str) -> User:
    """The resident account for a phone whose code was just verified; created on first sign-in."""
    phone = phone_normalize(phone)
    existing = User.objects.filter(phone=phone).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            user = User(username=f"r{phone}", phone=phone, kind=UserKind.RESIDENT)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:  # a concurrent first sign-in created it
        return User.objects.get(phone=phone)


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Return the token row and the raw key; the raw key is shown once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:50],
        key_hash=hashlib.sha256(raw.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
    )
    return token, raw


def api_token_user(*, raw: str) -> User | None:
    digest = hashlib.sha256(raw.encode()).hexdigest()
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=digest, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def membership_grant(
    *,
    user: User,
    role: str,
    region_id: int | None = None,
    grid_id: int | None = None,
    unit_id: int | None = None,
) -> Membership:
    """Grant a role anchored where the role needs it; refuses a mismatched anchor with a clear error."""
    kind = ROLE_SCOPE_KIND.get(role)
    if kind is None:
        raise AccountError("unknown_role", _("未知角色"))
    anchors = {ScopeKind.REGION: region_id, ScopeKind.GRID: grid_id, ScopeKind.UNIT: unit_id}
    given = {k for k, v in anchors.items() if v is not None}
    expected = set() if kind == ScopeKind.GLOBAL else {kind}
    if given != expected:
        raise AccountError("anchor_mismatch", _("该角色的授权范围不正确"))
    if role != Role.RESIDENT and user.kind != UserKind.STAFF:
        raise AccountError("not_staff", _("居民账号不能授予工作人员角色"))
    membership, _created = Membership.objects.get_or_create(
        user=user,
        role=role,
        region_id=region_id,
        grid_id=grid_id,
        unit_id=unit_id,
        defaults={"is_active": True},
    )
    if not membership.is_active:
        Membership.objects.filter(pk=membership.pk).update(is_active=True)
        membership.is_active = True
    return membership
