"""Shared bits of the people pages: the staff gate and "404, audited when the object exists"."""

from __future__ import annotations

from typing import Any, NoReturn

from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

from linli.accounts.models import User
from linli.accounts.scopes import user_has_capability
from linli.security.denials import ScopeDenied


def gate(request: HttpRequest, capability: str) -> HttpResponse | None:
    """Sign in first; a signed-in user without ``capability`` anywhere gets an audited 404."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user_has_capability(request.user, capability):
        raise ScopeDenied(reason="no_capability")
    return None


def user_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def missing(model: type[models.Model], object_id: Any) -> NoReturn:
    if model._default_manager.filter(pk=object_id).exists():
        raise ScopeDenied(object_type=model._meta.label_lower, object_id=object_id)
    raise Http404


def int_or_none(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
