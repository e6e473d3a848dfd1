"""Authenticated encryption of personal data at rest, and blind indexes for exact lookup.

Ciphertext format (one text value, safe for any text column)::

    <algorithm>.<key id>.<base64url(nonce(12) || ciphertext || tag(16))>

- ``algorithm`` is ``sm4gcm`` (GB/T 32907 SM4 in GCM mode, the 密评 choice) or ``aes256gcm``. Each
  ciphertext names its own, so both can coexist while a database is migrated from one to the other.
- ``key id`` names the master key in ``LINLI_DATA_KEYS``; rotation re-encrypts rows whose key id (or
  algorithm) is not the active one (``manage.py rotate_keys``).
- The nonce is 96 random bits per encryption (never a counter: several processes encrypt at once).
- The associated data binds the ciphertext to ``<table>.<column>`` plus its own header, so a value copied
  into another column, or a header edited to point at another key or algorithm, fails authentication.

Keys come from the environment only (``linli.settings``): never the database, never the repository. Each
master key is 32 random bytes; the per-algorithm key is derived with HKDF-SHA256 so one key's bytes are
never used by two ciphers. The blind index is HMAC-SHA256 with its own key over a normalised value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SM4_GCM = "sm4gcm"
AES_256_GCM = "aes256gcm"
ALGORITHMS = (SM4_GCM, AES_256_GCM)
NONCE_BYTES = 12
TAG_BYTES = 16
BLIND_INDEX_CHARS = 32  # 128 bits of HMAC-SHA256, hex
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CIPHERTEXT = re.compile(r"^(sm4gcm|aes256gcm)\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{38,})$")


class CryptoError(Exception):
    """Base class: a value could not be encrypted or decrypted. ``code`` is machine-readable."""

    code = "crypto_error"


class KeyConfigError(CryptoError, ImproperlyConfigured):
    code = "key_config"


class UnknownKeyError(CryptoError):
    code = "unknown_key"


class DecryptionError(CryptoError):
    code = "decryption_failed"


# --- algorithms ---------------------------------------------------------------------------------
@cache
def sm4_gcm_available() -> bool:
    """True when this ``cryptography``/OpenSSL build can do SM4 in GCM mode (not every build can)."""
    try:
        encryptor = Cipher(algorithms.SM4(bytes(16)), modes.GCM(bytes(NONCE_BYTES))).encryptor()
        encryptor.update(b"probe")
        encryptor.finalize()
    except Exception:  # UnsupportedAlgorithm, or SM4 missing from the module altogether
        return False
    return True


def _seal(algorithm: str, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    if algorithm == AES_256_GCM:
        return AESGCM(key).encrypt(nonce, plaintext, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def _open(algorithm: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if algorithm == AES_256_GCM:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    if not sm4_gcm_available():
        raise DecryptionError("this cryptography/OpenSSL build has no SM4-GCM; cannot read sm4gcm values")
    body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


# --- keys ---------------------------------------------------------------------------------------
def _decode_key(name: str, raw: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip() + "=" * (-len(raw.strip()) % 4), altchars=b"-_", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigError(f"{name}: key is not valid base64") from exc
    if len(key) != 32:
        raise KeyConfigError(f"{name}: key must be 32 random bytes (base64), got {len(key)} bytes")
    return key


@dataclass(frozen=True)
class Keyring:
    master: dict[str, bytes]
    active_id: str
    active_algorithm: str
    blind_keys: tuple[bytes, ...]  # current first, then the previous key during a re-index

    def cipher_key(self, algorithm: str, key_id: str) -> bytes:
        master = self.master.get(key_id)
        if master is None:
            raise UnknownKeyError(f"key id {key_id!r} is not in LINLI_DATA_KEYS (rotated away too early?)")
        return _derive(master, algorithm)

    @property
    def active_prefix(self) -> str:
        """Every ciphertext made now starts with this; rotation looks for values that do not."""
        return f"{self.active_algorithm}.{self.active_id}."


@cache
def _derive(master: bytes, algorithm: str) -> bytes:
    length = 16 if algorithm == SM4_GCM else 32
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=f"linli/{algorithm}".encode()
    ).derive(master)


@cache
def _keyring_from(keys: str, active_id: str, cipher: str, blind: str, blind_previous: str) -> Keyring:
    master: dict[str, bytes] = {}
    for item in keys.split(","):
        if not item.strip():
            continue
        key_id, sep, raw = item.strip().partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise KeyConfigError("LINLI_DATA_KEYS must look like 'kid1:<base64>,kid2:<base64>'")
        if key_id in master:
            raise KeyConfigError(f"LINLI_DATA_KEYS names key id {key_id!r} twice")
        master[key_id] = _decode_key(f"LINLI_DATA_KEYS[{key_id}]", raw)
    if not master:
        raise KeyConfigError("LINLI_DATA_KEYS is empty")
    if active_id not in master:
        raise KeyConfigError(f"LINLI_DATA_KEY_ID {active_id!r} is not one of LINLI_DATA_KEYS")
    if cipher == "auto":
        algorithm = SM4_GCM if sm4_gcm_available() else AES_256_GCM
    elif cipher in {"sm4-gcm", SM4_GCM}:
        if not sm4_gcm_available():
            raise KeyConfigError("LINLI_DATA_CIPHER=sm4-gcm but this cryptography build has no SM4-GCM")
        algorithm = SM4_GCM
    elif cipher in {"aes-256-gcm", AES_256_GCM}:
        algorithm = AES_256_GCM
    else:
        raise KeyConfigError("LINLI_DATA_CIPHER must be auto, sm4-gcm or aes-256-gcm")
    if not blind:
        raise KeyConfigError("LINLI_BLIND_INDEX_KEY is empty")
    blind_keys = [_decode_key("LINLI_BLIND_INDEX_KEY", blind)]
    if blind_previous:
        blind_keys.append(_decode_key("LINLI_BLIND_INDEX_KEY_PREVIOUS", blind_previous))
    if len(set(blind_keys) | set(master.values())) != len(blind_keys) + len(master):
        raise KeyConfigError("every data key and blind-index key must be different")
    return Keyring(master, active_id, algorithm, tuple(blind_keys))


def keyring() -> Keyring:
    """The keys in force, parsed once per distinct configuration (settings may change in tests)."""
    return _keyring_from(
        settings.LINLI_DATA_KEYS,
        settings.LINLI_DATA_KEY_ID,
        getattr(settings, "LINLI_DATA_CIPHER", "auto"),
        settings.LINLI_BLIND_INDEX_KEY,
        getattr(settings, "LINLI_BLIND_INDEX_KEY_PREVIOUS", ""),
    )


def new_key() -> str:
    """A fresh 32-byte key, base64 (for ``LINLI_DATA_KEYS`` and ``LINLI_BLIND_INDEX_KEY``)."""
    return base64.b64encode(os.urandom(32)).decode()


# --- encryption ---------------------------------------------------------------------------------
def _aad(context: str, algorithm: str, key_id: str) -> bytes:
    return f"linli|{context}|{algorithm}|{key_id}".encode()


def is_ciphertext(value: str) -> bool:
    return bool(_CIPHERTEXT.match(value))


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt under the active key; ``context`` is ``<table>.<column>`` (the associated data)."""
    ring = keyring()
    algorithm, key_id = ring.active_algorithm, ring.active_id
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(
        algorithm,
        ring.cipher_key(algorithm, key_id),
        nonce,
        plaintext.encode(),
        _aad(context, algorithm, key_id),
    )
    body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
    return f"{algorithm}.{key_id}.{body}"


def decrypt(ciphertext: str, *, context: str) -> str:
    """Decrypt and authenticate; any tampering, wrong column or wrong key raises ``DecryptionError``."""
    match = _CIPHERTEXT.match(ciphertext)
    if match is None:
        raise DecryptionError(
            f"{context}: value is not a linli ciphertext (plaintext left in an encrypted column?)"
        )
    algorithm, key_id, body = match.groups()
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError(f"{context}: ciphertext is truncated")
    key = keyring().cipher_key(algorithm, key_id)
    try:
        plaintext = _open(
            algorithm, key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(context, algorithm, key_id)
        )
    except InvalidTag as exc:
        raise DecryptionError(
            f"{context}: authentication failed (the value was altered, copied from another column, "
            f"or key {key_id!r} is not the key it was written with)"
        ) from exc
    return plaintext.decode()


def needs_rotation(ciphertext: str) -> bool:
    return not ciphertext.startswith(keyring().active_prefix)


# --- blind index --------------------------------------------------------------------------------
def _normalise_phone(value: str) -> str:
    digits = re.sub(r"[^0-9]", "", value)
    # The same mainland mobile written with its country code must index the same.
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("00861"):
        digits = digits[4:]
    return digits


def _normalise_id(value: str) -> str:
    return re.sub(r"[\s\-()()]", "", value).upper()


BLIND_INDEX_NORMALISERS = {
    "phone": _normalise_phone,
    "id_number": _normalise_id,
    "text": lambda value: value.strip(),
}


def _blind(key: bytes, kind: str, value: str) -> str:
    normalised = BLIND_INDEX_NORMALISERS[kind](value)
    message = f"{kind}\x00{normalised}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:BLIND_INDEX_CHARS]


def blind_index(kind: str, value: str) -> str:
    """The index value for exact lookup: ``User.objects.filter(phone_index=blind_index("phone", p))``."""
    if kind not in BLIND_INDEX_NORMALISERS:
        raise ValueError(f"unknown blind index kind {kind!r}")
    if not value:
        return ""
    return _blind(keyring().blind_keys[0], kind, value)


def blind_index_candidates(kind: str, value: str) -> list[str]:
    """Index values under the current and (during a re-index) the previous key, for ``__in`` lookups."""
    if kind not in BLIND_INDEX_NORMALISERS:
        raise ValueError(f"unknown blind index kind {kind!r}")
    if not value:
        return [""]
    return [_blind(key, kind, value) for key in keyring().blind_keys]
