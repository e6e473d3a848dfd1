"""Pieces shared by the people API modules: the router, error mapping, scope denials, masked types."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

from django.db import models
from django.http import HttpRequest
from ninja import Router
from pydantic import AfterValidator

from linli.accounts.models import User
from linli.core.api import ApiError
from linli.people.errors import PeopleError
from linli.security.denials import ScopeDenied
from linli.security.masking import mask_id_number, mask_name, mask_phone

router = Router(tags=["people"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _phone_once(value: str) -> str:
    # Presenters already mask; masking "138****5678" again would eat its first digits.
    return value if "*" in value else mask_phone(value)


# Output types: whatever reaches them leaves masked (defence in depth over the presenters).
SafeName = Annotated[str, AfterValidator(mask_name)]
SafeIdNumber = Annotated[str, AfterValidator(mask_id_number)]
SafePhone = Annotated[str, AfterValidator(_phone_once)]


def user_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def raise_api(exc: PeopleError) -> NoReturn:
    raise ApiError(exc.code, exc.message, status=exc.status, details=exc.details) from exc


def not_found(model: type[models.Model], object_id: Any) -> NoReturn:
    """404 either way; an existing object outside the caller's scope is also audited (ScopeDenied)."""
    from django.http import Http404

    if model._default_manager.filter(pk=object_id).exists():
        raise ScopeDenied(object_type=model._meta.label_lower, object_id=object_id)
    raise Http404


def require(request: HttpRequest, capability: str) -> User:
    """The caller, when they hold ``capability`` anywhere; else 404 (the endpoint "does not exist" for them)."""
    from django.http import Http404

    from linli.accounts.scopes import user_has_capability

    user = user_of(request)
    if not user_has_capability(user, capability):
        raise Http404
    return user
