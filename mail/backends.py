"""`MessageIdFileBackend`: e-mails as files named by their Message-ID (development and tests).

Sending the same e-mail twice (same Message-ID) leaves one file: the write is idempotent, as an
e-mail API with an idempotency key would be. Every attempt is also appended to
`deliveries.log`, so a test can tell "sent twice, stored once" from "sent once".

For the worker-kill test only: when the environment names a hold file
(`EMAIL_FILE_HOLD_PATH`), the backend waits while that file exists — before writing or after
writing (`EMAIL_FILE_HOLD_STAGE`, default "after") — and touches `<hold file>.reached` first, so
the test knows the worker is in the middle of sending. Unset, nothing waits.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


def _file_name(message_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._-]", "_", message_id.strip("<> ")) + ".eml"


class MessageIdFileBackend(BaseEmailBackend):
    def __init__(self, file_path: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("timeout", None)
        super().__init__(**kwargs)
        directory = (
            file_path
            or getattr(settings, "EMAIL_FILE_PATH", None)
            or os.environ.get("EMAIL_FILE_PATH")
            or settings.DATA_DIR / "mail"
        )
        self.directory = Path(directory)

    def _hold(self, stage: str) -> None:
        flag = os.environ.get("EMAIL_FILE_HOLD_PATH")
        if not flag or os.environ.get("EMAIL_FILE_HOLD_STAGE", "after") != stage:
            return
        Path(f"{flag}.reached").touch()
        while os.path.exists(flag):
            time.sleep(0.05)

    def send_messages(self, email_messages: Any) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for email_message in email_messages:
            message = email_message.message()
            message_id = str(message["Message-ID"] or "").strip()
            if not message_id:
                raise ValueError("MessageIdFileBackend needs e-mails with a Message-ID.")
            self._hold("before")
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".sending-")
            with os.fdopen(handle, "wb") as file:
                file.write(message.as_bytes(linesep="\n"))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.directory / _file_name(message_id))
            with (self.directory / "deliveries.log").open("a") as log:
                log.write(f"{message_id}\n")
            sent += 1
            self._hold("after")
        return sent
