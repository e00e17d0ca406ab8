"""Typed, fail-loud readers for settings that come from the environment.

Every reader raises ImproperlyConfigured with the variable's name when a value is present but
malformed, so a typo in a deployment stops the process at start instead of later at request time.
`env_secret` also reads `NAME_FILE`, which is how Kubernetes secrets are usually mounted.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    """Return the variable as a string, `default` when unset; raise when required and unset."""
    value = os.environ.get(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"The environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    """Return NAME, or the contents of the file named by NAME_FILE (a mounted secret)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise ImproperlyConfigured(f"{name}_FILE points to {file_name}, which is not a file.")
        return path.read_text().strip()
    return env_str(name, default, required=required)


def decode_key(value: str, name: str, *, size: int = 32) -> bytes:
    """Decode a key given as base64 of exactly `size` bytes; raise naming `name` otherwise."""
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise ImproperlyConfigured(f"{name} must be base64 of {size} random bytes.") from None
    if len(key) != size:
        raise ImproperlyConfigured(
            f"{name} must be base64 of exactly {size} bytes, not {len(key)}."
        )
    return key


def env_keys(name: str, previous: str) -> tuple[bytes, ...]:
    """The key in `name` (or `name`_FILE) first, then the comma-separated retired keys in
    `previous`; every one decoded now, so a bad key stops the process at start. Empty when
    `name` is unset."""
    current = env_secret(name)
    if not current:
        if (env_secret(previous) or "").strip():
            raise ImproperlyConfigured(f"{previous} is set but {name} is not.")
        return ()
    keys = [decode_key(current, name)]
    for number, old in enumerate((env_secret(previous) or "").split(","), start=1):
        if old.strip():
            keys.append(decode_key(old, f"{previous}[{number}]"))
    return tuple(keys)
