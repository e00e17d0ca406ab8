"""Removing metadata from attachments before they are stored: best effort, and said so.

mat2 is the well-kept tool for this, but it needs GObject introspection, poppler and exiftool from
the system; we do without, for the types we accept (`sparring.filetypes`):

- JPEG and PNG: decoded and written again by Pillow (the orientation applied first), so EXIF
  (GPS position, camera, time), XMP, IPTC and text chunks are left behind.
- Word, Excel (OOXML) and OpenDocument text: the document properties (`docProps/core.xml`,
  `app.xml`, `custom.xml`; `meta.xml`) are replaced by empty ones; comment and tracked-change
  authors, initials and Word's revision ids (`w:rsid…`) are blanked in every XML part.
- PDF: rewritten by pypdf without the document information dictionary and the XMP stream.

What stays: anything *inside* the content (a name in the text, a signature in a scan, a face in a
photo), and metadata in embedded objects (an image inside a Word file). The reporter's page says
so. A file that cannot be cleaned is stored as it came and marked "not cleaned".
"""

from __future__ import annotations

import io
import re
import zipfile

from sparring import filetypes

CLEANED = "cleaned"
NOT_CLEANED = "not cleaned"

_CORE_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.'
    b'org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-'
    b'properties"/>'
)
_CUSTOM_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-'
    b'properties"/>'
)
_ODF_META = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    b'office:version="1.2"><office:meta/></office:document-meta>'
)
_REPLACED = {
    "docProps/core.xml": _CORE_XML,
    "docProps/app.xml": _APP_XML,
    "docProps/custom.xml": _CUSTOM_XML,
    "meta.xml": _ODF_META,
}
_AUTHOR_ATTRIBUTES = re.compile(rb'\s(w:author|w:initials|w15:userId|w15:providerId)="[^"]*"')
_RSID_ATTRIBUTES = re.compile(rb'\sw:rsid[A-Za-z]*="[0-9A-Fa-f]*"')
_ELEMENTS = re.compile(rb"<(author|dc:creator|meta:initial-creator)>[^<]*</\1>")


def _clean_image(data: bytes, file_type: filetypes.FileType) -> bytes:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        if file_type is filetypes.JPEG:
            upright.convert("RGB").save(out, format="JPEG", quality=90)
        else:
            upright.save(out, format="PNG")
    return out.getvalue()


def _clean_xml(name: str, content: bytes) -> bytes:
    if name in _REPLACED:
        return _REPLACED[name]
    if not name.endswith(".xml"):
        return content
    content = _AUTHOR_ATTRIBUTES.sub(b"", content)
    content = _RSID_ATTRIBUTES.sub(b"", content)
    return _ELEMENTS.sub(lambda match: b"<%s></%s>" % (match[1], match[1]), content)


def _clean_zip(data: bytes) -> bytes:
    # The size checks of filetypes.check_upload ran before: the archive expands within limits.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = _clean_xml(info.filename, source.read(info))
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            # OpenDocument's `mimetype` must stay first and uncompressed.
            member.compress_type = (
                zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            )
            target.writestr(member, content)
    return out.getvalue()


def _clean_pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise ValueError("encrypted PDF")
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.metadata = None
    if "/Metadata" in writer._root_object:
        del writer._root_object["/Metadata"]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def clean(data: bytes, file_type: filetypes.FileType) -> tuple[bytes, str]:
    """(the bytes to store, CLEANED or NOT_CLEANED)."""
    try:
        if file_type in (filetypes.JPEG, filetypes.PNG):
            return _clean_image(data, file_type), CLEANED
        if file_type in (filetypes.DOCX, filetypes.XLSX, filetypes.ODT):
            return _clean_zip(data), CLEANED
        if file_type is filetypes.PDF:
            return _clean_pdf(data), CLEANED
    except Exception:
        return data, NOT_CLEANED
    return data, NOT_CLEANED
