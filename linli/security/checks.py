"""Start-up check: the personal-data keys parse (a malformed key fails ``manage.py check`` and
``runserver`` at once, not on the first request that reads a phone)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from linli.security import crypto


@register()
def data_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        crypto.keyring()
    except crypto.KeyConfigError as exc:
        return [
            Error(
                str(exc),
                hint="See docs/security.md, 'Algorithm suite and key management'.",
                id="linli_security.E001",
            )
        ]
    return []


@register()
def audit_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The audit-trail key parses (``LINLI_AUDIT_KEY``): a malformed key fails at start-up, not on the
    first audited sign-in."""
    from linli.security.audit import AuditKeyError, audit_keys

    try:
        audit_keys()
    except AuditKeyError as exc:
        return [Error(str(exc), hint="See docs/security.md, 'Audit trail'.", id="linli_security.E002")]
    return []
