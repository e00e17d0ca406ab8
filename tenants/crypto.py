"""Envelope encryption of everything identifying, per client organisation.

A master key from the environment (MASTER_KEY, base64 of 32 bytes; `MASTER_KEY_FILE` for a
mounted secret) wraps one random data key per client organisation, stored wrapped in the public
schema (`ClientOrganisation.wrapped_data_key`). Texts are encrypted with AES-256-GCM under the
client's data key, bound to the schema and field by associated data, so a ciphertext copied to
another client or another column does not decrypt. Offboarding a client destroys its wrapped keys
(crypto-shredding): every backup of its data becomes unreadable at once.

Each process caches a client's unwrapped keys for DATA_KEY_CACHE_SECONDS (one query per client
and period, none per value). A data key is rotated while the site runs (`manage.py rotate_keys`):

1. `--new-data-key` re-encrypts the client's values under a new data key and keeps the old one,
   wrapped, in `ClientOrganisation.retired_data_keys` (time in `data_key_rotated_at`).
2. Wait. Until their cache expires, other processes still encrypt new values under the old key;
   those stay readable because decryption tries the current key, then the retired ones. A value
   that no cached key opens makes the process drop its cache entry and read the keys again,
   once: a process that cached the keys before the rotation reads re-encrypted values at once.
3. `--purge-retired`, allowed from 2 x DATA_KEY_CACHE_SECONDS after the rotation, re-encrypts
   the values that open only with a retired key under the current one and destroys the retired
   keys. Only then is the old key gone.

Without MASTER_KEY (development and tests only) a key is generated once under DATA_DIR.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_BYTES = 32
_TAG_BYTES = 16
# Every wrapped data key is this long, so retired keys are stored back to back in one column.
WRAPPED_KEY_BYTES = len(_VERSION) + _NONCE_BYTES + _KEY_BYTES + _TAG_BYTES
_lock = threading.Lock()
# Monotonic seconds for the key cache's age; a module attribute so tests can move time.
_clock = time.monotonic


class DecryptionError(Exception):
    """The ciphertext does not belong to this client/field, was tampered with, or its key is gone."""


@lru_cache(maxsize=1)
def master_keys() -> tuple[bytes, ...]:
    """The current master key first, then retired ones still accepted for unwrapping (rotation)."""
    from saas.env import decode_key, env_keys

    keys = env_keys("MASTER_KEY", "MASTER_KEY_PREVIOUS")
    if keys:
        return keys
    if not (settings.DEBUG or getattr(settings, "TESTING", False)):
        raise ImproperlyConfigured("MASTER_KEY (or MASTER_KEY_FILE) is required when DEBUG is off.")
    path = settings.DATA_DIR / "master.key"
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return (decode_key(path.read_text(), str(path)),)


def new_data_key() -> bytes:
    """Generate a random data key (unwrapped: wrap it before it is stored)."""
    return secrets.token_bytes(_KEY_BYTES)


def new_wrapped_data_key(schema_name: str) -> bytes:
    """Generate a data key for a new client and return it wrapped with the current master key."""
    return wrap_data_key(new_data_key(), schema_name)


def wrap_data_key(data_key: bytes, schema_name: str) -> bytes:
    """Wrap `data_key` with the current master key, bound to the schema (WRAPPED_KEY_BYTES long)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(master_keys()[0]).encrypt(nonce, data_key, b"wrap:" + schema_name.encode())
    return _VERSION + nonce + sealed


def unwrap_data_key(wrapped: bytes, schema_name: str) -> bytes:
    """Open a wrapped data key with whichever configured master key opens it."""
    if not wrapped or bytes(wrapped[:1]) != _VERSION:
        raise DecryptionError("No usable data key (the client may have been offboarded).")
    nonce, sealed = bytes(wrapped[1 : 1 + _NONCE_BYTES]), bytes(wrapped[1 + _NONCE_BYTES :])
    for key in master_keys():
        try:
            return AESGCM(key).decrypt(nonce, sealed, b"wrap:" + schema_name.encode())
        except (InvalidTag, ValueError):
            continue  # try the next (older) master key
    raise DecryptionError("The data key does not open with any configured master key.")


def split_wrapped_keys(blob: bytes) -> list[bytes]:
    """The wrapped keys stored back to back in `blob` (`ClientOrganisation.retired_data_keys`)."""
    blob = bytes(blob)
    if len(blob) % WRAPPED_KEY_BYTES:
        raise DecryptionError(
            f"Retired data keys of {len(blob)} bytes: not a whole number of wrapped keys."
        )
    return [
        blob[start : start + WRAPPED_KEY_BYTES] for start in range(0, len(blob), WRAPPED_KEY_BYTES)
    ]


@dataclass(frozen=True)
class KeyRing:
    """A client's unwrapped data keys: the current one (for writing), then retired ones."""

    current: bytes
    retired: tuple[bytes, ...] = ()

    @property
    def keys(self) -> tuple[bytes, ...]:
        return (self.current, *self.retired)


def unwrap_key_ring(
    wrapped: bytes, retired: bytes, schema_name: str, *, strict: bool = True
) -> KeyRing:
    """Open a client's current and retired keys. Raises DecryptionError when one does not open;
    with strict=False a retired key that does not open is logged and left out instead."""
    current = unwrap_data_key(bytes(wrapped or b""), schema_name)
    try:
        retired_keys = split_wrapped_keys(retired or b"")
    except DecryptionError:
        if strict:
            raise
        logger.error("The retired data keys of %s are damaged; left out.", schema_name)
        retired_keys = []
    opened = []
    for number, wrapped_retired in enumerate(retired_keys, start=1):
        try:
            opened.append(unwrap_data_key(wrapped_retired, schema_name))
        except DecryptionError:
            if strict:
                raise
            logger.error("Retired data key %s of %s does not open; left out.", number, schema_name)
    return KeyRing(current=current, retired=tuple(opened))


# schema name -> (when read, by _clock, the client's keys)
_data_keys: dict[str, tuple[float, KeyRing]] = {}


def _cached_key_ring(schema_name: str) -> tuple[KeyRing, bool]:
    """The client's keys and whether they came from the cache (else: one query just now)."""
    now = _clock()
    cached = _data_keys.get(schema_name)
    if cached is not None and now - cached[0] < settings.DATA_KEY_CACHE_SECONDS:
        return cached[1], True
    from tenants.models import ClientOrganisation

    row = (
        ClientOrganisation.objects.filter(schema_name=schema_name)
        .values_list("wrapped_data_key", "retired_data_keys")
        .first()
    )
    wrapped, retired = row or (b"", b"")
    # A retired key that does not open must not make the current one unusable.
    ring = unwrap_key_ring(bytes(wrapped or b""), bytes(retired or b""), schema_name, strict=False)
    # The age counts from before the query, so a key is never used longer than the setting
    # after the state it was read from.
    _data_keys[schema_name] = (now, ring)
    return ring, False


def key_ring(schema_name: str) -> KeyRing:
    """A client's unwrapped keys (causes a query when not cached in the last
    DATA_KEY_CACHE_SECONDS). Raises DecryptionError when the client has no usable key."""
    return _cached_key_ring(schema_name)[0]


def data_key(schema_name: str) -> bytes:
    """The current unwrapped data key of a client organisation (cached like `key_ring`)."""
    return key_ring(schema_name).current


def forget_data_key(schema_name: str | None = None) -> None:
    """Drop cached data keys (after rotation or offboarding; all when no schema is given)."""
    if schema_name is None:
        _data_keys.clear()
    else:
        _data_keys.pop(schema_name, None)


def _associated_data(schema_name: str, purpose: str) -> bytes:
    return f"{schema_name}:{purpose}".encode()


def seal(plaintext: bytes, *, key: bytes, schema_name: str, purpose: str) -> bytes:
    """Encrypt `plaintext` under the given data key, bound to client and purpose (rotation)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, bytes(plaintext), _associated_data(schema_name, purpose))
    return _VERSION + nonce + sealed


def _parts(ciphertext: bytes) -> tuple[bytes, bytes]:
    blob = bytes(ciphertext)
    if len(blob) < len(_VERSION) + _NONCE_BYTES + _TAG_BYTES or blob[:1] != _VERSION:
        raise DecryptionError("Not a Vertrouwd ciphertext.")
    return blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]


def _open(
    nonce: bytes, sealed: bytes, keys: Sequence[bytes], associated_data: bytes
) -> tuple[int, bytes] | None:
    for position, key in enumerate(keys):
        try:
            return position, AESGCM(key).decrypt(nonce, sealed, associated_data)
        except InvalidTag:
            continue  # the next (retired) key
    return None


def open_sealed(
    ciphertext: bytes, *, keys: Sequence[bytes], schema_name: str, purpose: str
) -> tuple[int, bytes]:
    """Decrypt with the first of `keys` that opens `ciphertext`: (its position, the plaintext).

    Raises DecryptionError when it is no ciphertext of ours or none of `keys` opens it.
    """
    nonce, sealed = _parts(ciphertext)
    opened = _open(nonce, sealed, keys, _associated_data(schema_name, purpose))
    if opened is None:
        raise DecryptionError("No key of this client opens it for this purpose.")
    return opened


def _decrypt(ciphertext: bytes, *, schema_name: str, purpose: str, failure: str) -> bytes:
    nonce, sealed = _parts(ciphertext)
    associated_data = _associated_data(schema_name, purpose)
    ring, cached = _cached_key_ring(schema_name)
    opened = _open(nonce, sealed, ring.keys, associated_data)
    if opened is None and cached:
        # Keys cached before a rotation do not open what it re-encrypted: read them again, once
        # (so a value that no key opens costs a query each time it is read).
        forget_data_key(schema_name)
        opened = _open(nonce, sealed, key_ring(schema_name).keys, associated_data)
    if opened is None:
        raise DecryptionError(failure)
    return opened[1]


def encrypt_text(plaintext: str, *, schema_name: str, purpose: str) -> bytes:
    """Encrypt `plaintext` for one client; `purpose` (e.g. "cases.Case.summary") binds it to its
    field. Uses the client's current key (cached; see `key_ring`)."""
    return seal(
        plaintext.encode(), key=data_key(schema_name), schema_name=schema_name, purpose=purpose
    )


def decrypt_text(ciphertext: bytes, *, schema_name: str, purpose: str) -> str:
    """Decrypt a text with the client's current or a retired key (see `_decrypt`)."""
    return _decrypt(
        ciphertext,
        schema_name=schema_name,
        purpose=purpose,
        failure="This text does not decrypt for this client and field.",
    ).decode()


def encrypt_bytes(plaintext: bytes, *, schema_name: str, purpose: str) -> bytes:
    """Encrypt raw bytes (e.g. an attachment) for one client, bound to `purpose` like texts."""
    return seal(plaintext, key=data_key(schema_name), schema_name=schema_name, purpose=purpose)


def decrypt_bytes(ciphertext: bytes, *, schema_name: str, purpose: str) -> bytes:
    """Decrypt bytes with the client's current or a retired key (see `_decrypt`)."""
    return _decrypt(
        ciphertext,
        schema_name=schema_name,
        purpose=purpose,
        failure="These bytes do not decrypt for this client and purpose.",
    )
