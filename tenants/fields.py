"""`EncryptedTextField`: a text column stored encrypted with the current client's data key.

For models in tenant schemas only: the key is chosen from the schema the connection is set to
(`connection.schema_name`), which the tenant middleware and tenant-aware tasks always set. The
database only ever sees bytes; a `pg_dump` contains no plaintext.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from tenants import crypto


class EncryptedTextField(models.BinaryField):
    description = "Text encrypted with the client organisation's data key"
    # What the type checker (django-stubs) sees: text in, text out; the bytes stay in the database.
    _pyi_private_set_type: str
    _pyi_private_get_type: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("editable") is True:
            del kwargs["editable"]
        return name, path, args, kwargs

    def _check_str_default_value(self) -> list[Any]:
        # A text default (usually "") is right here: it is encrypted on save like any value.
        return []

    def _purpose(self) -> str:
        return f"{self.model._meta.label}.{self.name}"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        # Django passes `connection` by keyword; the key follows the schema it is set to.
        if value is None:
            return None
        if isinstance(value, bytes | memoryview):
            return super().get_db_prep_value(value, connection, prepared)
        schema = connection.schema_name
        if schema == "public":
            raise RuntimeError(
                f"{self._purpose()} can only be written inside a client organisation's schema."
            )
        encrypted = crypto.encrypt_text(str(value), schema_name=schema, purpose=self._purpose())
        return super().get_db_prep_value(encrypted, connection, prepared)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return crypto.decrypt_text(
            bytes(value), schema_name=connection.schema_name, purpose=self._purpose()
        )

    def to_python(self, value: Any) -> Any:
        return value

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return forms.CharField(widget=forms.Textarea, required=not self.blank, **kwargs)

    def value_to_string(self, obj: Any) -> str:
        return str(self.value_from_object(obj) or "")
