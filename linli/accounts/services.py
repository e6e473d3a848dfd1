"""Writes for accounts: SMS codes, resident sign-up on first verified sign-in, API tokens, memberships."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import (
    ApiToken,
    Membership,
    PasswordHistory,
    PhoneCode,
    PhoneCodeThrottle,
    User,
    UserKind,
)
from linli.accounts.roles import ROLE_SCOPE_KIND, Role, ScopeKind
from linli.accounts.sms import get_sms_backend
from linli.core import fastsql
from linli.core.fastsql import row_reader
from linli.security.audit import audit_record
from linli.security.crypto import blind_index, blind_index_candidates
from linli.security.duties import duties_held, duty_conflict, duty_conflict_message
from linli.security.models import AuditResult

# [0-9], not \d: \d also matches other scripts' digits, and one phone would get a second account.
_MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
# Chinese input methods type full-width digits and signs: read them as the ASCII ones.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")
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
    digits = re.sub(r"[\s\-()]", "", (raw or "").translate(_FULL_WIDTH))
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


def _phone_lock(phone_index: str, now: datetime) -> PhoneCodeThrottle:
    """Lock the phone's throttle row, creating it first if needed (call inside a transaction).

    The insert ignores a conflict (``INSERT … ON CONFLICT DO NOTHING``): on PostgreSQL it waits for a
    concurrent first request's insert to commit or roll back. Then the row exists and ``select_for_update``
    queues every request for this phone behind the one holding it. A row pruned between the two steps is
    inserted again."""
    while True:
        PhoneCodeThrottle.objects.bulk_create(
            [PhoneCodeThrottle(phone_index=phone_index, last_requested_at=now)], ignore_conflicts=True
        )
        row = PhoneCodeThrottle.objects.select_for_update().filter(phone_index=phone_index).first()
        if row is not None:
            return row


def sms_code_request(*, phone: str) -> SmsCodeSent:
    """Send a 6-digit code (≤ 1 per minute and ≤ 10 per day per phone); it is valid for
    ``SMS_CODE_TTL_SECONDS`` (at most 5 minutes, AU-5)."""
    phone = phone_normalize(phone)
    now = timezone.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    index = blind_index("phone", phone)
    with transaction.atomic():
        # Serialise concurrent requests for one phone, the first one included: the rate check and the
        # insert are one step under the phone's row lock.
        lock = _phone_lock(index, now)
        recent = list(
            PhoneCode.objects.filter(
                phone_index__in=blind_index_candidates("phone", phone),
                created_at__gte=now - timedelta(days=1),
            ).values_list("created_at", flat=True)
        )
        if sum(1 for created in recent if created >= now - timedelta(seconds=60)) >= SMS_PER_MINUTE:
            raise AccountError("sms_too_frequent", _("验证码发送过于频繁,请一分钟后再试"))
        if len(recent) >= SMS_PER_DAY:
            raise AccountError("sms_daily_limit", _("今日验证码发送次数已达上限"))
        row = PhoneCode.objects.create(
            phone_index=index,
            code_hmac=_code_hmac(phone, code),
            expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        )
        PhoneCodeThrottle.objects.filter(pk=lock.pk).update(last_requested_at=now)
        minutes = max(1, settings.SMS_CODE_TTL_SECONDS // 60)
        text = _("【邻里】您的登录验证码为%(code)s,%(minutes)d分钟内有效。如非本人操作请忽略。") % {
            "code": code,
            "minutes": minutes,
        }
        transaction.on_commit(lambda: get_sms_backend().send(phone=phone, text=text))
    return SmsCodeSent(phone=phone, expires_at=row.expires_at)


def phone_codes_prune(*, now: datetime | None = None) -> int:
    """Delete sign-in codes and per-phone throttle rows older than a day (their retention: the
    per-day limit's window is all they serve). Returns the rows deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=1)
    codes, _ = PhoneCode.objects.filter(created_at__lt=cutoff).delete()
    throttles, _ = PhoneCodeThrottle.objects.filter(last_requested_at__lt=cutoff).delete()
    return codes + throttles


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
            .filter(
                phone_index__in=blind_index_candidates("phone", phone),
                used_at__isnull=True,
                expires_at__gt=now,
            )
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


def resident_for_verified_phone(*, phone: str) -> User | None:
    """The resident account for a phone whose code was just verified; created on first sign-in. None
    when the phone belongs to a staff account: staff sign in with their password (and second factor)."""
    phone = phone_normalize(phone)
    existing = User.objects.filter(phone_index__matches=phone).first()
    if existing is not None:
        return existing if existing.kind == UserKind.RESIDENT else None
    try:
        with transaction.atomic():
            # The username must not carry the phone: it is shown and logged where the phone is masked.
            user = User(username=f"r{secrets.token_hex(8)}", phone=phone, kind=UserKind.RESIDENT)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:  # a concurrent first sign-in created it
        return User.objects.get(phone_index__matches=phone)


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


# ``last_used_at`` answers "is this token still in use?" (the admin list), not "when exactly": written at
# most once per this interval, so a busy app's requests do not each pay an UPDATE (and a row lock).
TOKEN_LAST_USED_GRANULARITY = timedelta(minutes=5)


_TOKEN_USER_DEFER = frozenset({"phone"})


@functools.cache
def _token_sql(token_columns: str, user_columns: str) -> str:
    return (
        f"SELECT {token_columns}, {user_columns} "  # noqa: S608 - names from model meta
        f'FROM "{ApiToken._meta.db_table}" t INNER JOIN "{User._meta.db_table}" u ON u.id = t.user_id '
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s"
    )


def _token_lookup(*, digest: str, now: datetime) -> ApiToken | None:
    """The live token with this hash and its user, in one hand-built statement (``linli.core.fastsql``):
    every bearer request pays it, and the ORM's compilation of the joined query cost more than running it."""
    # The phone is decrypted only if something asks for it (deferred): no request on this path does.
    token_cols, user_cols = row_reader(ApiToken, "t"), row_reader(User, "u", defer=_TOKEN_USER_DEFER)
    sql = _token_sql(token_cols.columns(), user_cols.columns())
    row, _ = fastsql.execute(sql, [digest, connection.ops.adapt_datetimefield_value(now)], fetchone=True)
    if row is None:
        return None
    token = token_cols.instance(row)
    token.user = user_cols.instance(row, token_cols.width)  # type: ignore[attr-defined]
    return token  # type: ignore[return-value]


def api_token_user(*, raw: str) -> User | None:
    digest = hashlib.sha256(raw.encode()).hexdigest()
    now = timezone.now()
    token = _token_lookup(digest=digest, now=now)
    if token is None or not token.user.is_active:
        return None
    stale = now - TOKEN_LAST_USED_GRANULARITY
    if token.last_used_at is None or token.last_used_at <= stale:
        # Conditional: of concurrent requests that all read a stale time, the first writes, the rest no-op.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
        ).update(last_used_at=now)
    return token.user


def api_token_revoke(*, token: ApiToken) -> None:
    """Revoke a bearer token at once (sign-out of an app, a lost phone); idempotent."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def membership_grant(
    *,
    user: User,
    role: str,
    region_id: int | None = None,
    grid_id: int | None = None,
    unit_id: int | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> Membership:
    """Grant a role anchored where the role needs it; refuses a mismatched anchor with a clear error.
    A grant that changes something, and a refusal by the separation of duties, are audited (AUD-1)."""
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
    grant = {"user_id": user.pk, "role": role, "region_id": region_id, "grid_id": grid_id, "unit_id": unit_id}
    try:
        with transaction.atomic():
            # The user row lock serialises concurrent grants to one person, so two requests cannot each
            # see "no other duty" and together make one account admin and auditor (AC-5).
            locked = User.objects.select_for_update().get(pk=user.pk)
            clash = duty_conflict(held=duties_held(locked), role=role)
            if clash is not None:
                raise AccountError("duty_conflict", duty_conflict_message(role=role, held_duty=clash))
            membership, created = Membership.objects.get_or_create(
                user=user,
                role=role,
                region_id=region_id,
                grid_id=grid_id,
                unit_id=unit_id,
                defaults={"is_active": True},
            )
            if created or not membership.is_active:
                if not membership.is_active:
                    Membership.objects.filter(pk=membership.pk).update(is_active=True)
                    membership.is_active = True
                audit_record(
                    action="role.grant", actor=actor, obj=membership, result=AuditResult.OK, data=grant,
                    request=request,
                )  # fmt: skip
    except AccountError as exc:
        # After the rollback, so the refusal's row stays.
        audit_record(
            action="role.grant",
            actor=actor,
            obj=user,
            result=AuditResult.DENIED,
            data={**grant, "code": exc.code},
            request=request,
        )
        raise
    return membership


def membership_revoke(
    *, membership: Membership, actor: User | None = None, request: HttpRequest | None = None
) -> Membership:
    """Deactivate a role. Scopes are computed per request, so the holder's next request no longer has it
    (AC-4); the row stays for the record and ``membership_grant`` can reactivate it. Audited (AUD-1)."""
    with transaction.atomic():
        row = Membership.objects.select_for_update().get(pk=membership.pk)
        if row.is_active:
            row.is_active = False
            row.save(update_fields=["is_active", "updated_at"])
            audit_record(
                action="role.revoke",
                actor=actor,
                obj=row,
                result=AuditResult.OK,
                data={"user_id": row.user_id, "role": row.role},
                request=request,
            )
    membership.is_active = False
    return row


def password_history_record(*, user: User, keep: int) -> None:
    """Remember the password hash just saved and forget all but the newest ``keep`` (AU-6)."""
    with transaction.atomic():
        PasswordHistory.objects.create(user=user, password=user.password)
        stale = (
            PasswordHistory.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[keep:]
        )
        PasswordHistory.objects.filter(id__in=list(stale)).delete()


def admin_create(*, username: str, password: str, display_name: str = "") -> User:
    """The first (or another) system administrator: superuser + the admin role. The password has passed
    the validators already; there is no default password anywhere (AC-6)."""
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise AccountError("username_taken", _("用户名已存在"))
        user = User(
            username=username,
            display_name=display_name,
            kind=UserKind.STAFF,
            is_staff=True,
            is_superuser=True,
        )
        user.set_password(password)
        user.save()  # the password validators' hook records the first history entry
        membership_grant(user=user, role=Role.ADMIN)
    return user
