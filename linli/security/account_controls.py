"""The security admin's writes on staff accounts' sign-in controls (MANAGE_SECURITY, AC-5, AUD-1).

- ``account_otp_reset``: a lost or replaced phone. Deletes the account's authenticators (TOTP devices,
  confirmed or half-enrolled) and backup codes and revokes its API tokens (the app on a lost phone holds
  one), so the next password sign-in enrols a new authenticator. Sessions that passed the second factor
  with a deleted device are signed out at their next request (``SessionPolicyMiddleware``).
- ``account_lockout_clear``: lifts the sign-in lockout (django-axes) of the account from every IP before
  the cool-off passes.

Each needs a reason and writes exactly one audit row, granted (``security.otp_reset`` /
``security.unlock``, ok) or refused (denied). Used by the screen (``actor`` = the signed-in security admin,
who must hold ``security.manage`` and may not act on their own account) and by the break-glass command
``manage.py linli_account_security`` (``actor=None``: whoever has a shell on the server, named by
``operator``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.admin import AdminSite
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from linli.accounts.models import ApiToken, User, UserKind
from linli.accounts.services import api_token_revoke
from linli.security.audit import audit_record
from linli.security.masking import mask_text
from linli.security.models import AuditResult
from linli.security.selectors import security_may_manage

OTP_RESET_ACTION = "security.otp_reset"
UNLOCK_ACTION = "security.unlock"
REASON_MAX = 200


class AccountControlError(Exception):
    """A refused action, with a machine-readable code and a Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OtpReset:
    authenticators: int
    backup_code_sets: int
    api_tokens_revoked: int


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise AccountControlError("reason_required", _("请填写操作理由"))
    if len(reason) > REASON_MAX:
        raise AccountControlError("reason_too_long", _("理由不能超过200个字"))
    return reason


def _context(actor: User | None, operator: str, reason: str) -> dict[str, Any]:
    via = {"via": "screen"} if actor is not None else {"via": "command", "operator": operator[:64]}
    return {**via, "reason": mask_text(reason)}  # the reason may name people: phones and IDs masked


def _guard(
    *, action: str, account: User, actor: User | None, reason: str, operator: str, request: HttpRequest | None
) -> None:
    """Refuse (and audit the refusal) what no reason can justify."""
    refusal: AccountControlError | None = None
    if actor is not None and not security_may_manage(actor):
        refusal = AccountControlError("forbidden", _("只有安全管理员可以执行此操作"))
    elif account.kind != UserKind.STAFF:
        refusal = AccountControlError("not_staff", _("只能处理工作人员账号"))
    elif actor is not None and actor.pk == account.pk:
        # One person cannot lift controls on their own account: another security admin does it, or the
        # server's operator with the break-glass command.
        refusal = AccountControlError(
            "self_action",
            _(
                "不能处理自己的账号:请另一位安全管理员处理,或由运维人员在服务器上执行 linli_account_security 命令。"
            ),
        )
    if refusal is not None:
        audit_record(
            action=action,
            actor=actor,
            obj=account,
            result=AuditResult.DENIED,
            data={**_context(actor, operator, reason), "code": refusal.code},
            request=request,
        )
        raise refusal


def account_otp_reset(
    *, account: User, actor: User | None, reason: str, request: HttpRequest | None = None, operator: str = ""
) -> OtpReset:
    """Delete the account's authenticators and backup codes and revoke its API tokens; the next sign-in
    enrols again. Audited once (``security.otp_reset``)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    reason = _reason(reason)
    _guard(
        action=OTP_RESET_ACTION,
        account=account,
        actor=actor,
        reason=reason,
        operator=operator,
        request=request,
    )
    with transaction.atomic():
        # The user row lock queues this behind an enrolment or another reset of the same account.
        User.objects.select_for_update().filter(pk=account.pk).first()
        _total, per_model = TOTPDevice.objects.filter(user=account).delete()
        authenticators = per_model.get(TOTPDevice._meta.label, 0)
        _total, per_model = StaticDevice.objects.filter(user=account).delete()  # its codes go with it
        backup_sets = per_model.get(StaticDevice._meta.label, 0)
        tokens = list(ApiToken.objects.filter(user=account, revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token)
        done = OtpReset(authenticators, backup_sets, len(tokens))
        audit_record(
            action=OTP_RESET_ACTION,
            actor=actor,
            obj=account,
            result=AuditResult.OK,
            data={
                **_context(actor, operator, reason),
                "authenticators": done.authenticators,
                "backup_code_sets": done.backup_code_sets,
                "api_tokens_revoked": done.api_tokens_revoked,
            },
            request=request,
        )
    return done


def account_lockout_clear(
    *, account: User, actor: User | None, reason: str, request: HttpRequest | None = None, operator: str = ""
) -> int:
    """Forget the account's failed sign-in attempts from every IP, lifting any lockout now. Returns the
    (account, IP) records cleared. Audited once (``security.unlock``), also when nothing was locked."""
    from axes.models import AccessAttempt

    reason = _reason(reason)
    _guard(
        action=UNLOCK_ACTION, account=account, actor=actor, reason=reason, operator=operator, request=request
    )
    with transaction.atomic():
        # The lockout is keyed by account name + IP (AXES_LOCKOUT_PARAMETERS): every IP's record goes.
        _total, per_model = AccessAttempt.objects.filter(username=account.get_username()).delete()
        cleared = per_model.get(AccessAttempt._meta.label, 0)
        audit_record(
            action=UNLOCK_ACTION,
            actor=actor,
            obj=account,
            result=AuditResult.OK,
            data={**_context(actor, operator, reason), "records_cleared": cleared},
            request=request,
        )
    return cleared


# --- the Django admin is not a second way in --------------------------------------------------------------
class _ViewOnlyAdmin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def sign_in_admin_restrict(site: AdminSite) -> None:
    """Keep the security admin's controls on the security admin's screen (AC-5). Otherwise the system admin,
    a superuser, could delete (or add, with a known key) another account's authenticator or delete lockout
    records in the Django admin. The authenticator pages are removed (they also show the secret keys); the
    lockout tables stay readable but cannot be edited or deleted there."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if site.is_registered(model):
            site.unregister(model)
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model_admin = site._registry.get(model)
        if model_admin is not None and not isinstance(model_admin, _ViewOnlyAdmin):
            cls = type(model_admin)
            model_admin.__class__ = type(cls.__name__, (_ViewOnlyAdmin, cls), {"__module__": cls.__module__})
