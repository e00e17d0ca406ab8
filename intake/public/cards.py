"""An adviser's card on the intake pages (public schema): languages, how to reach, a photo.

The photo is decoded and written again by Pillow (at most 400 x 400, JPEG), so what is stored
has no EXIF (no GPS position of the adviser's home) and is certainly an image.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intake.public.models import AdviserCard

PHOTO_SIDE = 400


def card_of(user: Any) -> AdviserCard:
    return AdviserCard.objects.filter(user=user).first() or AdviserCard(user=user)


def _photo(data: bytes) -> bytes:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("JPEG", "PNG"):
                raise ValidationError(_("The photo must be a JPEG or PNG image."))
            image.load()
            picture = ImageOps.exif_transpose(image).convert("RGB")
            picture.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
            out = io.BytesIO()
            picture.save(out, format="JPEG", quality=85)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationError(_("The photo must be a JPEG or PNG image.")) from None


def card_update(
    *,
    user: Any,
    languages: str,
    reach: str,
    photo: bytes | None = None,
    photo_too_large: bool = False,
    remove_photo: bool = False,
) -> AdviserCard:
    languages, reach = (languages or "").strip(), (reach or "").strip()
    if len(languages) > 100 or len(reach) > 300:
        raise ValidationError(
            _("Languages can have at most 100 characters, how to reach you at most 300.")
        )
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in languages + reach):
        raise ValidationError(_("This text contains characters that cannot be stored."))
    if photo_too_large:
        raise ValidationError(_("The photo can be at most 5 MB."))
    stored = _photo(photo) if photo else None
    with transaction.atomic():
        card, _created = AdviserCard.objects.select_for_update().get_or_create(user=user)
        card.languages, card.reach, card.updated_at = languages, reach, timezone.now()
        if stored is not None:
            card.photo = stored
        elif remove_photo:
            card.photo = b""
        card.save()
    return card
