"""The security admin's screen (MANAGE_SECURITY): find a staff account, see its sign-in controls, reset its
authenticator or lift its lockout, each with a reason and audited (``linli.security.account_controls``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.security.account_controls import AccountControlError, account_lockout_clear, account_otp_reset
from linli.security.denials import ScopeDenied
from linli.security.duties import DUTY_LABELS, duties_held
from linli.security.forms import AccountActionForm, AccountSearchForm
from linli.security.selectors import (
    account_security_status,
    security_may_manage,
    staff_account_for_security,
    staff_accounts_find,
    staff_accounts_locked,
)


def _security_admin_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not security_may_manage(request.user):
        # Everyone else, the system admin and superusers included (AC-5), is told nothing is here (404);
        # the attempt is audited.
        raise ScopeDenied(reason="security_manage_forbidden")
    return None


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _account(request: HttpRequest, user_id: int) -> User:
    account = staff_account_for_security(viewer=request.user, user_id=user_id)
    if account is None:
        raise Http404
    return account


def security_accounts(request: HttpRequest) -> HttpResponse:
    if (early := _security_admin_only(request)) is not None:
        return early
    form = AccountSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    context = {
        "form": form,
        "query": query,
        "found": list(staff_accounts_find(viewer=request.user, query=query)),
        "locked": list(staff_accounts_locked(viewer=request.user)),
    }
    return _no_store(render(request, "security/accounts.html", context))


def _detail(
    request: HttpRequest,
    account: User,
    *,
    otp_form: AccountActionForm | None = None,
    unlock_form: AccountActionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "account": account,
        "duties": [DUTY_LABELS[d] for d in sorted(duties_held(account))],
        "status": account_security_status(account),
        "otp_form": otp_form or AccountActionForm(prefix="otp"),
        "unlock_form": unlock_form or AccountActionForm(prefix="unlock"),
        "is_self": account.pk == request.user.pk,
    }
    return _no_store(render(request, "security/account.html", context, status=status))


def security_account(request: HttpRequest, user_id: int) -> HttpResponse:
    if (early := _security_admin_only(request)) is not None:
        return early
    return _detail(request, _account(request, user_id))


def _account_action(
    request: HttpRequest,
    user_id: int,
    *,
    prefix: str,
    act: Callable[..., Any],
    done: Callable[[User, Any], str],
) -> HttpResponse:
    """One action form (``prefix`` "otp" or "unlock"): reason checked, the service called, the result said."""
    if (early := _security_admin_only(request)) is not None:
        return early
    account = _account(request, user_id)
    form = AccountActionForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return _detail(request, account, status=400, **{f"{prefix}_form": form})
    try:
        result = act(account=account, actor=request.user, reason=form.cleaned_data["reason"], request=request)
    except AccountControlError as exc:
        form.add_error(None, exc.message)
        status = 403 if exc.code == "self_action" else 400
        return _detail(request, account, status=status, **{f"{prefix}_form": form})
    messages.success(request, done(account, result))
    return redirect("security:account", user_id=account.pk)


@require_POST
def security_account_otp_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    return _account_action(
        request,
        user_id,
        prefix="otp",
        act=account_otp_reset,
        done=lambda account, reset: (
            _(
                "已重置 %(name)s 的动态口令:删除 %(devices)d 个认证器、%(sets)d 组备用码,注销 %(tokens)d 个接口令牌。该账号下次登录时须重新绑定。"
            )
            % {
                "name": account.get_username(),
                "devices": reset.authenticators,
                "sets": reset.backup_code_sets,
                "tokens": reset.api_tokens_revoked,
            }
        ),
    )


@require_POST
def security_account_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    return _account_action(
        request,
        user_id,
        prefix="unlock",
        act=account_lockout_clear,
        done=lambda account, cleared: (
            _("已解除 %(name)s 的登录锁定(清除 %(count)d 条失败记录)。")
            % {"name": account.get_username(), "count": cleared}
        ),
    )
