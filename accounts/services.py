"""A person's own account: preferences, second-factor enrolment and backup codes (django-otp
devices)."""

from __future__ import annotations

import math
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tenants.validators import FULL_NAME_MAX_CHARS, name_clean

BACKUP_CODE_COUNT = 10


def user_preferences_set(*, user: User, language: str, full_name: str) -> User:
    """Store a person's own language and full name (the one name rule; a name may stay empty,
    as for an invitation). Refuses an unknown language; bad input changes nothing."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError({"language": _("Choose one of the options.")})
    full_name = name_clean(full_name, field="full_name", limit=FULL_NAME_MAX_CHARS, required=False)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.language, locked.full_name = language, full_name
        locked.save(update_fields=["language", "full_name"])
    user.language, user.full_name = language, full_name
    return user


def device_matching_token(*, user: User, token: str) -> TOTPDevice | StaticDevice | None:
    """The confirmed device that accepts `token`: six digits go to the authenticator, anything
    else to the backup codes, so a backup code never counts as a failed authenticator attempt."""
    if token.isdigit() and len(token) == 6:
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    with transaction.atomic():
        for device in devices.select_for_update():
            if device.verify_token(token):
                return device
    return None


def totp_wait_seconds(*, user: User) -> int:
    """Seconds before the authenticator accepts another code (django-otp doubles a delay after
    each wrong code and refuses even a right code until it has passed); 0 when it may be tried."""
    waits = []
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        allowed, details = device.verify_is_allowed()
        if not allowed and details and details.get("locked_until"):
            waits.append(math.ceil((details["locked_until"] - timezone.now()).total_seconds()))
    return max([0, *waits])


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator device being enrolled, created on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, user: User, device: TOTPDevice) -> list[str]:
    """Confirm the enrolled device, remove other authenticators, issue fresh backup codes."""
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return backup_codes_regenerate(user=user)


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """Replace all backup codes; each works once. Returns them for showing once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Backup codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [f"{secrets.token_hex(4)}" for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes
