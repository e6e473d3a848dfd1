"""Two ways in: staff with username + password, residents with phone + SMS code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from linli.accounts.models import User, UserKind


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
        user = resident_for_verified_phone(phone=phone)
        return user if self.user_can_authenticate(user) else None
