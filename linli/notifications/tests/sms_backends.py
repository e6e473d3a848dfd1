"""SMS backends for TESTS ONLY: a provider that is down, and a worker killed right after the send."""

from __future__ import annotations

from linli.accounts.sms import ConsoleSmsBackend


class SmsProviderDown(Exception):
    pass


class FailingSmsBackend:
    """Test double for an SMS gateway outage: every send raises (and echoes the phone, as some do)."""

    supports_idempotency_key = True
    calls = 0

    def send(self, *, phone: str, text: str, idempotency_key: str | None = None) -> str:
        type(self).calls += 1
        raise SmsProviderDown(f"gateway unavailable (503) for {phone}")


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: not an Exception, so no ``except Exception`` in our code handles it."""


class CrashAfterSendSmsBackend(ConsoleSmsBackend):
    """Test double: the provider accepts the message, then the worker dies before marking it sent."""

    def send(self, *, phone: str, text: str, idempotency_key: str | None = None) -> str:
        super().send(phone=phone, text=text, idempotency_key=idempotency_key)
        raise WorkerKilled


class CrashBeforeSendSmsBackend:
    """Test double: the worker dies after claiming the row, before the provider is called."""

    supports_idempotency_key = True

    def send(self, *, phone: str, text: str, idempotency_key: str | None = None) -> str:
        raise WorkerKilled
