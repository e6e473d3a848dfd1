"""SMS delivery behind one small interface.

``ConsoleSmsBackend`` is the development backend: it writes the message to the server log instead of
sending it. A production backend (an SMS gateway's HTTP API) implements the same ``send`` method and is
chosen with ``LINLI_SMS_BACKEND``.

Idempotency keys: a backend that sets ``supports_idempotency_key = True`` accepts
``send(..., idempotency_key=KEY)`` and must drop a second message with a key it has already accepted
(gateways call this a client message id / ``outId``). The notification outbox passes its unique key, so a
worker killed after the gateway accepted a message but before the outbox row was marked sent does not
text the resident twice on the retry (QUALITY REL-5). Backends written before this (``send(*, phone,
text)``) keep working: ``sms_send`` only passes the key to backends that declare support.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("linli.sms")

_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def phone_mask(phone: str) -> str:
    """``13800138000`` → ``138****8000``; anything too short to mask safely becomes ``****``."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def phones_mask_in_text(text: str) -> str:
    """Mask every mainland mobile number inside free text (log lines, provider error messages)."""
    return _MOBILE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> object: ...


class IdempotentSmsBackend(Protocol):
    supports_idempotency_key: bool

    def send(self, *, phone: str, text: str, idempotency_key: str | None = None) -> str | None: ...


def sms_send(backend: SmsBackend, *, phone: str, text: str, idempotency_key: str | None = None) -> str:
    """Send through any backend; returns the provider's message id ("" when the backend gives none)."""
    if idempotency_key is not None and getattr(backend, "supports_idempotency_key", False):
        result = backend.send(phone=phone, text=text, idempotency_key=idempotency_key)  # type: ignore[call-arg]
    else:
        result = backend.send(phone=phone, text=text)
    return result if isinstance(result, str) else ""


@dataclass(frozen=True)
class ConsoleDelivery:
    """One message the console backend "sent" (for development and tests; the phone is kept masked)."""

    message_id: str
    phone_masked: str
    idempotency_key: str | None


class ConsoleSmsBackend:
    """Development only: prints the SMS to the server log. Nothing leaves the machine.

    It behaves like a gateway with idempotency keys: a key already accepted by this process is dropped
    and answered with the first message's id. ``deliveries`` records what was "sent" so tests can count
    messages per key (0 duplicates).
    """

    supports_idempotency_key = True
    remember = 10_000  # keys kept in memory; older keys are forgotten (a gateway keeps them ~24 h)
    deliveries: ClassVar[list[ConsoleDelivery]] = []
    _by_key: ClassVar[OrderedDict[str, str]] = OrderedDict()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def send(self, *, phone: str, text: str, idempotency_key: str | None = None) -> str:
        masked = phone_mask(phone)
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._by_key:
                logger.warning("[console SMS] duplicate key %s dropped (to %s)", idempotency_key, masked)
                return self._by_key[idempotency_key]
            message_id = f"console-{uuid.uuid4().hex[:16]}"
            if idempotency_key is not None:
                self._by_key[idempotency_key] = message_id
                while len(self._by_key) > self.remember:
                    self._by_key.popitem(last=False)
            self.deliveries.append(ConsoleDelivery(message_id, masked, idempotency_key))
            del self.deliveries[: -self.remember]
        logger.warning("[console SMS, not sent] to %s: %s", masked, phones_mask_in_text(text))
        return message_id

    @classmethod
    def reset(cls) -> None:
        """Forget every key and delivery (tests)."""
        with cls._lock:
            cls._by_key.clear()
            cls.deliveries.clear()


def get_sms_backend() -> SmsBackend:
    backend_class = import_string(settings.SMS_BACKEND)
    backend: SmsBackend = backend_class()
    return backend
