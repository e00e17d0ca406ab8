"""What an uploaded file really is, judged by its content, never by its name.

Accepted: PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) and OpenDocument text (.odt). Office
documents are zip archives: we open them, refuse archives that would expand out of proportion
(a zip bomb: too many members, too many bytes or too high a compression ratio, counted while
actually decompressing, since the sizes a zip declares can lie) and read the part that names the
document type (`[Content_Types].xml`, or `mimetype` for OpenDocument). Macro-enabled documents
are refused. Everything else — executables, scripts, HTML, archives of other kinds — is refused.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 10 * 1024 * 1024
ZIP_MAX_MEMBERS = 1_000
ZIP_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
ZIP_MAX_RATIO = 100
_CHUNK = 64 * 1024
_TYPE_PART_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    extensions: tuple[str, ...]


PDF = FileType("application/pdf", "PDF", (".pdf",))
PNG = FileType("image/png", "PNG", (".png",))
JPEG = FileType("image/jpeg", "JPEG", (".jpg", ".jpeg"))
DOCX = FileType(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word", (".docx",)
)
XLSX = FileType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel", (".xlsx",)
)
ODT = FileType("application/vnd.oasis.opendocument.text", "OpenDocument", (".odt",))
ACCEPTED = (PDF, PNG, JPEG, DOCX, XLSX, ODT)
BY_CONTENT_TYPE = {file_type.content_type: file_type for file_type in ACCEPTED}

_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _not_accepted() -> ValidationError:
    return _refuse(
        _("This file is not a PDF, a PNG or JPEG image, or a Word, Excel or OpenDocument text."),
        "file_type",
    )


def _check_expansion(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], size: int) -> None:
    """Decompress every member, counting bytes; stop at the first limit crossed."""
    total = 0
    for info in infos:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                total += len(chunk)
                if total > ZIP_MAX_UNCOMPRESSED_BYTES or total > ZIP_MAX_RATIO * max(size, 1):
                    raise _refuse(
                        _("This document expands to far more than its size (a zip bomb?)."),
                        "zip_bomb",
                    )


def _office_type(data: bytes) -> FileType:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _not_accepted() from None
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MAX_MEMBERS:
            raise _refuse(_("This document holds too many parts (a zip bomb?)."), "zip_bomb")
        declared = sum(info.file_size for info in infos)
        if declared > ZIP_MAX_UNCOMPRESSED_BYTES or declared > ZIP_MAX_RATIO * max(len(data), 1):
            raise _refuse(
                _("This document expands to far more than its size (a zip bomb?)."), "zip_bomb"
            )
        try:
            _check_expansion(archive, infos, len(data))
        except ValidationError:
            raise
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, RuntimeError):
            raise _not_accepted() from None
        names = {info.filename for info in infos}
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise _refuse(_("Documents with macros are not accepted."), "macros")
        if "mimetype" in names:
            mimetype = archive.read("mimetype")[:200].decode("ascii", "replace").strip()
            if mimetype == ODT.content_type:
                return ODT
            raise _not_accepted()
        if "[Content_Types].xml" in names:
            with archive.open("[Content_Types].xml") as part:
                types = part.read(_TYPE_PART_MAX_BYTES).decode("utf-8", "replace")
            if "macroEnabled" in types:
                raise _refuse(_("Documents with macros are not accepted."), "macros")
            for main_part, file_type in _OOXML_MAIN_PARTS.items():
                if f'ContentType="{main_part}"' in types:
                    return file_type
    raise _not_accepted()


def detect(data: bytes) -> FileType:
    """Return the accepted type of `data`, or raise ValidationError saying why it is refused."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    raise _not_accepted()


def check_upload(*, name: str, data: bytes) -> FileType:
    """Check one upload's size, content and name; return its type or raise ValidationError."""
    if not data:
        raise _refuse(_("The file %(name)s is empty.") % {"name": name}, "empty")
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(
            _("The file %(name)s is larger than %(limit)d MB.")
            % {"name": name, "limit": MAX_FILE_BYTES // (1024 * 1024)},
            "too_large",
        )
    try:
        file_type = detect(data)
    except ValidationError as error:
        raise _refuse(f"{name}: {error.messages[0]}", error.code or "file_type") from None
    if not name.lower().endswith(file_type.extensions):
        # A name that claims another type than the content (e.g. a PNG called .pdf) is refused:
        # the reader would open it with the wrong program.
        raise _refuse(
            _("The file %(name)s is named as another type than its content (%(type)s).")
            % {"name": name, "type": file_type.label},
            "name_mismatch",
        )
    return file_type
