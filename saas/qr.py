"""QR codes as inline SVG for HTML pages (authenticator enrolment, the intake poster)."""

from __future__ import annotations

from io import BytesIO

import qrcode
import qrcode.image.svg


def qr_svg(text: str, *, box_size: int) -> str:
    """The QR code of `text` as an `<svg>` element to put inline in HTML."""
    image = qrcode.make(
        text, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size, border=2
    )
    buffer = BytesIO()
    image.save(buffer)
    # Without the XML declaration: an HTML parser reads it as a bogus comment (invalid HTML).
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]
