"""What each kind of e-mail looks like: one renderer per kind, registered by its app.

An app declares its e-mails in `<app>/emails.py`:

    @kind("boardroom.signal_sent")
    def signal_sent(email: OutgoingEmail) -> Message | None:
        ...

The renderer runs in the worker, inside the transaction that claimed the row, and returns the
e-mail or None when it is no longer wanted (the row is then "dropped"). It reads what it needs
by the row's ids, checks that the recipient may still get it, and says no more than the kind
allows: no case content and no text typed by someone else. `in_client_schema=True` makes the
worker send from the schema of the row's client (the renderer reads that schema).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.mail import EmailMessage

if TYPE_CHECKING:
    from mail.models import OutgoingEmail

Renderer = Callable[["OutgoingEmail"], EmailMessage | None]


@dataclass(frozen=True)
class Kind:
    name: str
    render: Renderer
    in_client_schema: bool


_KINDS: dict[str, Kind] = {}


def kind(name: str, *, in_client_schema: bool = False) -> Callable[[Renderer], Renderer]:
    """Register the renderer of the e-mails of kind `name` (once: a second owner is an error)."""

    def register(render: Renderer) -> Renderer:
        if name in _KINDS and _KINDS[name].render is not render:
            raise RuntimeError(f"Two renderers for the e-mail kind {name!r}.")
        _KINDS[name] = Kind(name=name, render=render, in_client_schema=in_client_schema)
        return render

    return register


def kind_get(name: str) -> Kind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No renderer for the e-mail kind {name!r} (mail.kinds.kind).") from None


def message(*, subject: str, body: str, to: list[str]) -> EmailMessage:
    """A plain-text e-mail; the outbox adds the Message-ID and Auto-Submitted headers."""
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=to)
