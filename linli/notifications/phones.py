"""The one place that reads or writes an outbox message's phone number.

``OutboxMessage.phone`` is an encrypted field (ciphertext + key id, PI-1) with a blind index
(``phone_index``); every access stays behind these functions. Everything else (admin, logs, API) uses
``phone_display``, the masked form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from linli.accounts.sms import phone_mask

if TYPE_CHECKING:
    from linli.notifications.models import OutboxMessage


def outbox_phone_fields(phone: str) -> dict[str, str]:
    """Field values that store ``phone`` on a new OutboxMessage (the number and its masked display)."""
    return {"phone": phone, "phone_display": phone_mask(phone) if phone else ""}


def outbox_phone(message: OutboxMessage) -> str:
    """The full number to hand to the SMS provider. Never log it; log ``message.phone_display``."""
    return message.phone


def outbox_messages_to(phone: str) -> QuerySet[OutboxMessage]:
    """The messages sent to ``phone`` (a person's request to see or erase them), by the blind index."""
    from linli.notifications.models import OutboxMessage

    if not phone:
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.filter(phone_index__matches=phone)


def outbox_phones_erase(messages: QuerySet[OutboxMessage]) -> int:
    """Forget the full number of these messages (retention); the masked display stays for the record.
    ``update()`` skips ``save()``, so the blind index is cleared here together with its source."""
    return messages.exclude(phone="").update(phone="", phone_index="")
