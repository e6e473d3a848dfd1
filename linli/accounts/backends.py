"""Two ways in: staff with username + password, residents with phone + SMS code."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from linli.accounts.models import User, UserKind


class LockoutBackend(AxesStandaloneBackend):
    """First in AUTHENTICATION_BACKENDS: refuses a locked-out (username, IP) before any password check.

    Calls without a request (management commands, tests calling ``authenticate()`` directly) have no
    client to count against, so they pass through instead of raising; every HTTP sign-in path passes one.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class StaffPasswordBackend(ModelBackend):
    """Username + password, for staff accounts only (residents have no usable password)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None or getattr(user, "kind", None) != UserKind.STAFF:
            return None
        return user


class PhoneCodeBackend(ModelBackend):
    """Phone + one-time SMS code; the code is checked and consumed by ``sms_code_verify``."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        phone: str | None = None,
        sms_code: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not phone or not sms_code:
            return None
        from linli.accounts.services import resident_for_verified_phone, sms_code_verify

        if not sms_code_verify(phone=phone, code=sms_code):
            return None
        user = resident_for_verified_phone(phone=phone)  # None for a staff account's phone
        return user if user is not None and self.user_can_authenticate(user) else None
