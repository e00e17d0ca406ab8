"""Receipt keys, their slow hash, the journal key and the mailbox session token.

A receipt key is 28 characters of Crockford's base32 (no I, L, O or U: nothing to confuse when
read aloud or written down), shown in seven groups of four: `K7QM-2XNA-…`. The first two
groups (40 bits) are the *lookup id*, stored in plain so that a login is one row and one KDF,
not a scan; the other five (100 bits) are the secret. Only an Argon2id hash of the whole key is
stored. With 100 secret bits, guessing is hopeless even for someone holding the hash (see
`bench/intake.py` for the rate one core gets); the per-client and per-key limits in
`intake.services` stop guessing through the site long before.

The key is derived from the intake form's one-time nonce with HMAC under a key derived from
SECRET_KEY. The nonce lives only in the reporter's page and, hashed, in the contact row; so a
second submit of the same form (a double click, a reload) finds the contact and shows the same
key again, and nothing on the server can recompute a key from what it stores.

The journal key is HKDF of the secret part under a random salt per contact: the firm never
holds it. While a mailbox is open, it is kept sealed in the session row under a key derived
from the cookie's token, which the server stores only hashed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2 import exceptions as argon2_exceptions
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from tenants import crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
KEY_LENGTH = 28
LOOKUP_LENGTH = 8
GROUP = 4
# OWASP's first Argon2id choice (19 MiB, 2 passes, 1 lane): about 40 ms on one idle core.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_PARALLELISM = 1
_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
)
_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
JOURNAL_SCOPE = "reporter"


def _encode(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _position in range(length):
        chars.append(ALPHABET[number & 31])
        number >>= 5
    return "".join(chars)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def nonce_digest(nonce: str) -> str:
    return hashlib.sha256(f"intake-nonce:{nonce}".encode()).hexdigest()


def receipt_key_for(nonce: str) -> str:
    """The receipt key a form's nonce gives (28 characters, normalised, without dashes)."""
    secret = hashlib.sha256(f"vertrouwd-intake-receipt:{settings.SECRET_KEY}".encode()).digest()
    digest = hmac.new(secret, nonce.encode(), hashlib.sha256).digest()
    return _encode(digest, KEY_LENGTH)


def formatted(key: str) -> str:
    return "-".join(key[i : i + GROUP] for i in range(0, len(key), GROUP))


def normalise(raw: str) -> str | None:
    """The key as typed (any case, spaces or dashes, O for 0, I or L for 1), or None."""
    cleaned = "".join(ch for ch in (raw or "")[:80].upper() if ch not in " -\t\r\n.").translate(
        _TRANSLATE
    )
    if len(cleaned) != KEY_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def lookup_of(key: str) -> str:
    return key[:LOOKUP_LENGTH]


def hash_key(key: str) -> str:
    return _HASHER.hash(key)


_DUMMY: list[str] = []


def verify_key(key_hash: str | None, key: str) -> bool:
    """Argon2id check; with no hash (no such lookup id) a dummy check costs the same time."""
    if key_hash is None:
        if not _DUMMY:
            _DUMMY.append(_HASHER.hash(secrets.token_hex(14)))
        key_hash = _DUMMY[0]
        with contextlib.suppress(argon2_exceptions.VerificationError):
            _HASHER.verify(key_hash, key)
        return False
    try:
        return _HASHER.verify(key_hash, key)
    except (argon2_exceptions.VerificationError, argon2_exceptions.InvalidHashError):
        return False


def journal_key(key: str, salt: bytes) -> bytes:
    """The reporter's journal key: HKDF-SHA256 of the secret part of the receipt key."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=bytes(salt), info=b"vertrouwd intake journal v1"
    ).derive(key[LOOKUP_LENGTH:].encode())


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(f"intake-session:{token}".encode()).hexdigest()


def _session_wrap_key(token: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"vertrouwd intake session v1"
    ).derive(token.encode())


def wrap_for_session(journal: bytes, token: str) -> bytes:
    return crypto.seal(
        journal, key=_session_wrap_key(token), schema_name=JOURNAL_SCOPE, purpose="session"
    )


def unwrap_for_session(wrapped: bytes, token: str) -> bytes:
    return crypto.open_sealed(
        bytes(wrapped),
        keys=[_session_wrap_key(token)],
        schema_name=JOURNAL_SCOPE,
        purpose="session",
    )[1]


def form_token(token: str) -> str:
    """The CSRF token of a mailbox form: bound to the session's token, never stored."""
    return hmac.new(
        hashlib.sha256(f"intake-form:{settings.SECRET_KEY}".encode()).digest(),
        token.encode(),
        hashlib.sha256,
    ).hexdigest()[:32]
