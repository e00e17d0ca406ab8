"""Envelope encryption of everything identifying, per client organisation.

A master key from the environment (MASTER_KEY, base64 of 32 bytes; `MASTER_KEY_FILE` for a
mounted secret) wraps one random data key per client organisation, stored wrapped in the public
schema (`ClientOrganisation.wrapped_data_key`). Texts are encrypted with AES-256-GCM under the
client's data key, bound to the schema and field by associated data, so a ciphertext copied to
another client or another column does not decrypt. Offboarding a client destroys its wrapped key
(crypto-shredding): every backup of its data becomes unreadable at once.

Without MASTER_KEY (development and tests only) a key is generated once under DATA_DIR.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_VERSION = b"\x01"
_NONCE_BYTES = 12
_lock = threading.Lock()


class DecryptionError(Exception):
    """The ciphertext does not belong to this client/field, was tampered with, or its key is gone."""


def _decode_key(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be base64 of 32 random bytes.") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must be base64 of exactly 32 bytes, not {len(key)}.")
    return key


@lru_cache(maxsize=1)
def master_keys() -> tuple[bytes, ...]:
    """The current master key first, then retired ones still accepted for unwrapping (rotation)."""
    from saas.env import env_secret

    current = env_secret("MASTER_KEY")
    if current:
        keys = [_decode_key(current, "MASTER_KEY")]
        for number, old in enumerate((env_secret("MASTER_KEY_PREVIOUS") or "").split(","), start=1):
            if old.strip():
                keys.append(_decode_key(old, f"MASTER_KEY_PREVIOUS[{number}]"))
        return tuple(keys)
    if not (settings.DEBUG or getattr(settings, "TESTING", False)):
        raise ImproperlyConfigured("MASTER_KEY (or MASTER_KEY_FILE) is required when DEBUG is off.")
    path = settings.DATA_DIR / "master.key"
    with _lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return (_decode_key(path.read_text(), str(path)),)


def new_wrapped_data_key(schema_name: str) -> bytes:
    """Generate a data key for a new client and return it wrapped with the current master key."""
    return wrap_data_key(secrets.token_bytes(32), schema_name)


def wrap_data_key(data_key: bytes, schema_name: str) -> bytes:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(master_keys()[0]).encrypt(nonce, data_key, b"wrap:" + schema_name.encode())
    return _VERSION + nonce + sealed


def unwrap_data_key(wrapped: bytes, schema_name: str) -> bytes:
    if not wrapped or bytes(wrapped[:1]) != _VERSION:
        raise DecryptionError("No usable data key (the client may have been offboarded).")
    nonce, sealed = bytes(wrapped[1 : 1 + _NONCE_BYTES]), bytes(wrapped[1 + _NONCE_BYTES :])
    for key in master_keys():
        try:
            return AESGCM(key).decrypt(nonce, sealed, b"wrap:" + schema_name.encode())
        except Exception:  # noqa: S112 — try the next (older) master key
            continue
    raise DecryptionError("The data key does not open with any configured master key.")


_data_keys: dict[str, bytes] = {}


def data_key(schema_name: str) -> bytes:
    """The unwrapped data key of a client organisation (one query on first use per process)."""
    cached = _data_keys.get(schema_name)
    if cached is not None:
        return cached
    from tenants.models import ClientOrganisation

    wrapped = (
        ClientOrganisation.objects.filter(schema_name=schema_name)
        .values_list("wrapped_data_key", flat=True)
        .first()
    )
    key = unwrap_data_key(bytes(wrapped or b""), schema_name)
    _data_keys[schema_name] = key
    return key


def forget_data_key(schema_name: str | None = None) -> None:
    """Drop cached data keys (after rotation or offboarding; all when no schema is given)."""
    if schema_name is None:
        _data_keys.clear()
    else:
        _data_keys.pop(schema_name, None)


def encrypt_text(plaintext: str, *, schema_name: str, purpose: str) -> bytes:
    """Encrypt `plaintext` for one client; `purpose` (e.g. "cases.Case.summary") binds it to its field."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(data_key(schema_name)).encrypt(
        nonce, plaintext.encode(), f"{schema_name}:{purpose}".encode()
    )
    return _VERSION + nonce + sealed


def decrypt_text(ciphertext: bytes, *, schema_name: str, purpose: str) -> str:
    blob = bytes(ciphertext)
    if not blob or blob[:1] != _VERSION:
        raise DecryptionError("Not a Vertrouwd ciphertext.")
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return (
            AESGCM(data_key(schema_name))
            .decrypt(nonce, sealed, f"{schema_name}:{purpose}".encode())
            .decode()
        )
    except DecryptionError:
        raise
    except Exception:
        raise DecryptionError("This text does not decrypt for this client and field.") from None


def encrypt_bytes(plaintext: bytes, *, schema_name: str, purpose: str) -> bytes:
    """Encrypt raw bytes (e.g. an attachment) for one client, bound to `purpose` like texts."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(data_key(schema_name)).encrypt(
        nonce, bytes(plaintext), f"{schema_name}:{purpose}".encode()
    )
    return _VERSION + nonce + sealed


def decrypt_bytes(ciphertext: bytes, *, schema_name: str, purpose: str) -> bytes:
    blob = bytes(ciphertext)
    if not blob or blob[:1] != _VERSION:
        raise DecryptionError("Not a Vertrouwd ciphertext.")
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(data_key(schema_name)).decrypt(
            nonce, sealed, f"{schema_name}:{purpose}".encode()
        )
    except DecryptionError:
        raise
    except Exception:
        raise DecryptionError("These bytes do not decrypt for this client and purpose.") from None
