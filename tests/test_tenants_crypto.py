from __future__ import annotations

import base64
import secrets

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants import crypto
from tenants.models import ClientOrganisation


@pytest.fixture
def master_key(monkeypatch):
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("MASTER_KEY", key)
    crypto.master_keys.cache_clear()
    crypto.forget_data_key()
    yield key
    crypto.master_keys.cache_clear()
    crypto.forget_data_key()


def test_client_texts_round_trip_and_are_bound_to_client_and_field(cast):
    sealed = crypto.encrypt_text(
        "Melder voelt zich gepest", schema_name=cast.a1.schema_name, purpose="x.y.summary"
    )
    assert b"gepest" not in sealed
    assert (
        crypto.decrypt_text(sealed, schema_name=cast.a1.schema_name, purpose="x.y.summary")
        == "Melder voelt zich gepest"
    )
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(sealed, schema_name=cast.a2.schema_name, purpose="x.y.summary")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(sealed, schema_name=cast.a1.schema_name, purpose="x.y.notes")
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(tampered, schema_name=cast.a1.schema_name, purpose="x.y.summary")


def test_every_client_has_its_own_wrapped_key(cast):
    keys = {bytes(client.wrapped_data_key) for client in (cast.a1, cast.a2, cast.b1)}
    assert len(keys) == 3 and all(len(key) == 1 + 12 + 32 + 16 for key in keys)
    assert crypto.data_key(cast.a1.schema_name) != crypto.data_key(cast.a2.schema_name)


def test_previous_master_key_still_unwraps_after_rotation(monkeypatch, master_key):
    wrapped = crypto.wrap_data_key(b"k" * 32, "c_abcdefghijkl")
    monkeypatch.setenv("MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("MASTER_KEY_PREVIOUS", master_key)
    crypto.master_keys.cache_clear()
    assert crypto.unwrap_data_key(wrapped, "c_abcdefghijkl") == b"k" * 32
    monkeypatch.delenv("MASTER_KEY_PREVIOUS")
    crypto.master_keys.cache_clear()
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_data_key(wrapped, "c_abcdefghijkl")


def test_destroyed_key_makes_texts_unreadable(cast):
    sealed = crypto.encrypt_text("geheim", schema_name=cast.b1.schema_name, purpose="p")
    type(cast.b1).objects.filter(pk=cast.b1.pk).update(wrapped_data_key=b"")
    crypto.forget_data_key(cast.b1.schema_name)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(sealed, schema_name=cast.b1.schema_name, purpose="p")
    crypto.forget_data_key(cast.b1.schema_name)


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_bad_master_key_fails_loudly(monkeypatch, value):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("MASTER_KEY", value)
    crypto.master_keys.cache_clear()
    with pytest.raises(ImproperlyConfigured):
        crypto.master_keys()
    crypto.master_keys.cache_clear()


@pytest.fixture
def fresh_keys():
    crypto.forget_data_key()
    yield
    crypto.forget_data_key()


def test_cached_keys_are_read_again_after_data_key_cache_seconds(
    cast, settings, monkeypatch, fresh_keys
):
    settings.DATA_KEY_CACHE_SECONDS = 300
    now = [1000]
    monkeypatch.setattr(crypto, "_clock", lambda: now[0])
    schema = cast.b1.schema_name
    with CaptureQueriesContext(connection) as first:
        old_key = crypto.data_key(schema)
    # Another process rotates b1's key meanwhile.
    new_key = secrets.token_bytes(32)
    ClientOrganisation.objects.filter(pk=cast.b1.pk).update(
        wrapped_data_key=crypto.wrap_data_key(new_key, schema),
        retired_data_keys=bytes(cast.b1.wrapped_data_key),
    )
    now[0] += 299
    with CaptureQueriesContext(connection) as cached:
        assert crypto.data_key(schema) == old_key
    now[0] += 1
    with CaptureQueriesContext(connection) as expired:
        assert crypto.key_ring(schema) == crypto.KeyRing(current=new_key, retired=(old_key,))
    assert (len(first), len(cached), len(expired)) == (1, 0, 1)


def test_a_retired_key_that_does_not_open_leaves_the_current_one_usable(cast, fresh_keys):
    schema = cast.b1.schema_name
    sealed = crypto.encrypt_text("geheim", schema_name=schema, purpose="p")
    broken = bytearray(crypto.wrap_data_key(secrets.token_bytes(32), schema))
    broken[-1] ^= 1
    ClientOrganisation.objects.filter(pk=cast.b1.pk).update(retired_data_keys=bytes(broken))
    crypto.forget_data_key()
    assert crypto.decrypt_text(sealed, schema_name=schema, purpose="p") == "geheim"
    with pytest.raises(crypto.DecryptionError):  # the commands refuse it
        crypto.unwrap_key_ring(bytes(cast.b1.wrapped_data_key), bytes(broken), schema)
    with pytest.raises(crypto.DecryptionError, match="not a whole number"):
        crypto.split_wrapped_keys(bytes(broken)[:-1])
