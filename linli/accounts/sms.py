"""SMS delivery behind one small interface.

``ConsoleSmsBackend`` is the development backend: it writes the message to the server log instead of
sending it. A production backend (an SMS gateway's HTTP API) implements the same ``send`` method and is
chosen with ``LINLI_SMS_BACKEND``.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("linli.sms")


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Development only: prints the SMS to the server log. Nothing leaves the machine."""

    def send(self, *, phone: str, text: str) -> None:
        masked = phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
        logger.warning("[console SMS, not sent] to %s: %s", masked, text)


def get_sms_backend() -> SmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    backend: SmsBackend = backend_class()
    return backend
