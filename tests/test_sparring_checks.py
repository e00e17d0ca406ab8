"""Sparring's content checks: identifiers in texts, file types by content (no database)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from sparring import filetypes
from sparring.identifiers import find_identifiers
from tests.cast import TINY_PNG

OOXML_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
OOXML_MACRO_WORD = "application/vnd.ms-word.document.macroEnabled.main+xml"
OOXML_EXCEL = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


def content_types(main_part: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{main_part}"/></Types>'
    ).encode()


def office_file(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx(extra: dict[str, bytes] | None = None, main_part: str = OOXML_WORD) -> bytes:
    return office_file(
        {
            "[Content_Types].xml": content_types(main_part),
            "word/document.xml": b"<w:document>hallo</w:document>",
            **(extra or {}),
        }
    )


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A real docx whose one extra part inflates from ~50 KB to 50 MB of zeros."""
    return docx({"word/media/padding.bin": bytes(50 * 1024 * 1024)})


MANY_PARTS = docx({f"word/part{n}.xml": b"x" for n in range(filetypes.ZIP_MAX_MEMBERS)})


# --- identifiers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("Mail haar op j.de.vries@voorbeeld.nl als het kan", "email", "j.de.vries@voorbeeld.nl"),
        ("Bel 06-12345678 vanavond", "phone", "06-12345678"),
        ("Bel 06 1234 5678 vanavond", "phone", "06 1234 5678"),
        ("Nummer: 020-123 45 67.", "phone", "020-123 45 67"),
        ("Nummer (020) 1234567 graag", "phone", "(020) 1234567"),
        ("Bel +31 6 12345678 of later", "phone", "+31 6 12345678"),
        ("Zijn nummer is 0031 20 123 4567.", "phone", "0031 20 123 4567"),
        ("In Londen: +44 (0)20 7946 0958", "phone", "+44 (0)20 7946 0958"),
        ("US: +1-202-555-0173 ok", "phone", "+1-202-555-0173"),
        ("Rekening NL91ABNA0417164300 staat op zijn naam", "iban", "NL91ABNA0417164300"),
        ("Rekening NL91 ABNA 0417 1643 00 staat op zijn naam", "iban", "NL91 ABNA 0417 1643 00"),
        ("Belgisch: BE68539007547034.", "iban", "BE68539007547034"),
        ("Haar BSN is 123456782.", "bsn", "123456782"),
        ("Haar BSN is 123.456.782.", "bsn", "123.456.782"),
        ("Ze woont op 1234 AB in het dorp", "address", "1234 AB"),
        ("Ze woont op 1234AB 12 in het dorp", "address", "1234AB"),
        ("Ze woont in de Kerkstraat 12a", "address", "Kerkstraat 12a"),
        ("Adres: Stationsweg 3, Utrecht", "address", "Stationsweg 3"),
    ],
)
def test_identifiers_are_found(text, kind, found):
    findings = find_identifiers(text)

    assert [(finding.kind, finding.text) for finding in findings] == [(kind, found)]


@pytest.mark.parametrize(
    "text",
    [
        "Een medewerker voelt zich al maanden gepest door een collega op de afdeling.",
        "In 2024 en 2025 kwam dit drie keer voor, om 10:30 en 14:00 uur.",
        "Het ging om 12 mensen en 3 leidinggevenden, 45 minuten lang.",
        "Het budget was 1.250.000 euro, de afdeling telt 120 fte.",
        "Zie artikel 3 lid 2 van de Arbowet en de Wet bescherming klokkenluiders.",
        "<script>alert('x')</script> is geen identificerend gegeven.",
    ],
)
def test_ordinary_texts_raise_no_alarm(text):
    assert find_identifiers(text) == []


def test_several_identifiers_are_reported_in_order_once_each():
    text = "Bel 06-12345678 of mail a@b.nl; nogmaals: a@b.nl, IBAN NL91ABNA0417164300."

    findings = find_identifiers(text)

    assert [(f.kind, f.text) for f in findings] == [
        ("phone", "06-12345678"),
        ("email", "a@b.nl"),
        ("iban", "NL91ABNA0417164300"),
    ]


# --- file types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("verslag.pdf", PDF, "application/pdf"),
        ("schets.png", TINY_PNG, "image/png"),
        ("foto.JPG", JPEG, "image/jpeg"),
        ("foto.jpeg", JPEG, "image/jpeg"),
        ("notitie.docx", docx(), filetypes.DOCX.content_type),
        ("cijfers.xlsx", docx(main_part=OOXML_EXCEL), filetypes.XLSX.content_type),
        ("tekst.odt", odt(), filetypes.ODT.content_type),
    ],
)
def test_accepted_files_are_recognised_by_content(name, data, content_type):
    assert filetypes.check_upload(name=name, data=data).content_type == content_type


def _refusal(name: str, data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        filetypes.check_upload(name=name, data=data)
    return refused.value


def test_an_executable_named_pdf_is_refused():
    with translation.override("en"):
        error = _refusal("rapport.pdf", EXE)
        # Messages are lazy: render them inside the override, whatever language ran before.
        messages = [str(message) for message in error.messages]

    assert error.code == "file_type"
    assert messages == [
        "rapport.pdf: This file is not a PDF, a PNG or JPEG image, or a Word, Excel or "
        "OpenDocument text."
    ]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("leeg.pdf", b"", "empty"),
        ("groot.pdf", b"%PDF-" + bytes(filetypes.MAX_FILE_BYTES), "too_large"),
        ("pagina.pdf", b"<html><script>alert(1)</script></html>", "file_type"),
        ("script.pdf", b"#!/bin/sh\nrm -rf /\n", "file_type"),
        ("archief.docx", office_file({"a.txt": b"hallo"}), "file_type"),
        ("kapot.docx", b"PK\x03\x04" + b"\x00" * 100, "file_type"),
        ("plaatje.pdf", TINY_PNG, "name_mismatch"),
        ("plaatje", TINY_PNG, "name_mismatch"),
        ("macro.docm", docx(main_part=OOXML_MACRO_WORD), "macros"),
        ("macro.docx", docx({"word/vbaProject.bin": b"\x00" * 10}), "macros"),
        ("bom.docx", zip_bomb(), "zip_bomb"),
        ("veel.docx", MANY_PARTS, "zip_bomb"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_with_a_reason(name, data, code):
    assert _refusal(name, data).code == code


def test_expansion_is_measured_by_decompressing_not_by_declared_sizes():
    # A zip's declared sizes can lie; the check counts the bytes that really come out.
    data = zip_bomb()
    archive = zipfile.ZipFile(io.BytesIO(data))
    infos = archive.infolist()

    with pytest.raises(ValidationError) as refused:
        filetypes._check_expansion(archive, infos, len(data))

    assert refused.value.code == "zip_bomb"
