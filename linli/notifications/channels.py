"""Channels deliver one outbox message each: SMS through the accounts SMS backend, WeChat on the console.

How to add a channel: add a value to ``OutboxChannel``, write a class with ``deliver(message) -> str``
(the provider's message id; raise on failure, the outbox retries with backoff), pass
``message.dedup_key`` to the provider as its idempotency key if it has one, and register the class in
``CHANNELS``. Channels are called outside any database transaction.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Protocol

from linli.accounts.sms import get_sms_backend, phones_mask_in_text, sms_send
from linli.notifications.models import OutboxChannel
from linli.notifications.phones import outbox_phone

if TYPE_CHECKING:
    from linli.notifications.models import OutboxMessage

logger = logging.getLogger("linli.notifications")


class Channel(Protocol):
    def deliver(self, message: OutboxMessage) -> str: ...


class SmsChannel:
    """SMS via ``settings.SMS_BACKEND`` (console in development); the dedup key is the idempotency key."""

    def deliver(self, message: OutboxMessage) -> str:
        return sms_send(
            get_sms_backend(),
            phone=outbox_phone(message),
            text=message.text,
            idempotency_key=message.dedup_key,
        )


class ConsoleWechatChannel:
    """Development only: logs a WeChat template message. No WeChat API is called (not yet integrated)."""

    def deliver(self, message: OutboxMessage) -> str:
        logger.warning(
            "[console WeChat, not sent] to user %s key %s: %s",
            message.recipient_id,
            message.dedup_key,
            phones_mask_in_text(message.text),
        )
        return f"console-wechat-{uuid.uuid4().hex[:16]}"


CHANNELS: dict[str, type[Channel]] = {
    OutboxChannel.SMS: SmsChannel,
    OutboxChannel.WECHAT: ConsoleWechatChannel,
}


def channel_for(name: str) -> Channel:
    return CHANNELS[name]()
