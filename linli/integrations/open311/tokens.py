"""Open311 tokens (``tokens/{token}``): the case id signed with ``django.core.signing``, no column of its own.

The spec lets POST answer a token to look the id up later. A case number would do as a token only if it
were secret, and it is sequential: anyone could walk ``tokens/`` and learn which cases exist, tip-offs and
cases off 公示 included (``requests/{id}`` hides those). A signed id cannot be made up without the
SECRET_KEY, and the salt keeps a signature made for anything else in the project from passing as a token.
Tokens stay valid while SECRET_KEY (or one of SECRET_KEY_FALLBACKS) does.
"""

from __future__ import annotations

from django.core import signing

from linli.cases.models import Case, Channel

TOKEN_SALT = "linli.integrations.open311.token"  # noqa: S105 - a salt (a namespace), not a secret
MAX_TOKEN_LENGTH = 200  # ours are ~50 characters; anything much longer is not worth an HMAC


def token_for(case_id: int) -> str:
    """The token POST requests answers for the case ``case_id`` (``<id>:<signature>``)."""
    return signing.Signer(salt=TOKEN_SALT).sign(str(case_id))


def token_resolve(token: str) -> str | None:
    """The number of the case ``token`` was made for; None for a forged or malformed token or a case gone.

    Tokens are only made for requests POSTed through Open311, so the answer (the id and nothing else) may
    be a case that is not public: its poster asked for it.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        raw = signing.Signer(salt=TOKEN_SALT).unsign(token)
    except signing.BadSignature:
        return None
    if not (raw.isascii() and raw.isdigit()):
        return None
    return Case.objects.filter(pk=int(raw), channel=Channel.OPEN311).values_list("number", flat=True).first()


__all__ = ["TOKEN_SALT", "token_for", "token_resolve"]
