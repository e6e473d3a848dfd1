"""Logs never hold a valid ID number or a full mainland mobile number (AUD-4).

``PiiMaskingFilter`` sits on the root handler in ``settings.LOGGING``, so every record that reaches a
handler (ours, Django's, libraries') is masked once, after its arguments are merged into the message and
after any traceback is formatted. ``mask_pii_processor`` does the same for structlog event dicts; put it
last before the renderer. Both use ``linli.security.masking.mask_text``: IDs with a valid MOD 11-2 check
character and mainland mobiles (with or without +86 and separators) become their masked forms.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

from linli.security.masking import mask_text

_formatter = logging.Formatter()


class PiiMaskingFilter(logging.Filter):
    """Rewrites the record in place (message, arguments, traceback text); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it as usual, masked
            message = f"{record.msg!s} {record.args!r}"
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_mask_value(item) for item in value)
    if value is None or isinstance(value, bool | float):
        return value
    # Numbers, exceptions, objects: keep them as they are unless their text holds something to mask.
    text = str(value)
    masked = mask_text(text)
    return value if masked == text else masked


def mask_pii_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks every value of the event dict (nested ones too)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_value(value)
    return event_dict
