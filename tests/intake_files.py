"""Files for the intake tests: a JPEG with GPS EXIF and a DOCX with an author and revision data."""

from __future__ import annotations

import io
import zipfile

AUTHOR = "Jantje Klikspaan"


def jpeg_with_gps() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x013B] = AUTHOR  # Artist
    gps = {1: "N", 2: (52.0, 5.0, 30.0), 3: "E", 4: (4.0, 53.0, 10.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def docx_with_author() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "docProps/core.xml",
            '<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:creator>{AUTHOR}</dc:creator><cp:lastModifiedBy>{AUTHOR}</cp:lastModifiedBy>"
            "<cp:revision>7</cp:revision></cp:coreProperties>",
        )
        archive.writestr(
            "docProps/app.xml",
            f"<Properties><Company>{AUTHOR} BV</Company></Properties>",
        )
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            '<w:body><w:p w:rsidR="00AB12CD"><w:ins w:id="1" w:author="'
            f'{AUTHOR}" w:date="2026-01-01T00:00:00Z"><w:r><w:t>Wat er gebeurde</w:t></w:r>'
            "</w:ins></w:p></w:body></w:document>",
        )
    return out.getvalue()


def pdf_with_author() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": AUTHOR, "/Title": "Melding"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
