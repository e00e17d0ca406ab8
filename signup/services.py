"""A firm signs itself up: the firm, its first firm admin, its trial and one e-mail, in one go.

`firm_signup` validates everything before it writes, then creates the firm and its admin in one
transaction (`tenants.services.firm_create` and `user_create`), fixes the end of the trial
(`billing.services.trial_start`), records the acceptance of the terms, and after commit sends the
admin the invitation to choose a password. An address that already has an account gets no new
firm and, at most once per window, a notice instead; the caller shows the same page either way.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
import uuid
from enum import StrEnum
from typing import Any, cast

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from billing.services import trial_start
from mail.outbox import email_enqueue
from signup.emails import ACCOUNT_EXISTS
from signup.models import FirmSignup
from tenants.emails import INVITATION
from tenants.models import Firm, FirmMembership
from tenants.services import firm_create, firm_slug_check, user_create
from tenants.trail import Operator
from tenants.validators import name_clean

logger = logging.getLogger(__name__)

FIRM_NAME_MAX = cast(int, Firm._meta.get_field("name").max_length)  # a CharField: always set
FULL_NAME_MAX = 150
SLUG_MAX = 40
# First key of pg_advisory_xact_lock(int, int); the second is the e-mail address's hash.
_SIGNUP_LOCK = 720_261_131


class SignupOutcome(StrEnum):
    CREATED = "created"  # a new firm and its admin; the invitation goes out
    ACCOUNT_EXISTS = "account_exists"  # nothing created; the account holder may get a notice
    REPEATED = "repeated"  # the same form sent again (double submit): nothing new


def slug_suggest(name: str) -> str:
    """A short name from the firm's name: accents dropped, lower-case letters, digits and
    hyphens, at most 40 characters ("Bureau Vertrouwen & Zo" gives "bureau-vertrouwen-zo").
    `static/signup/signup.js` does the same in the browser."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def _text(value: Any, *, field: str, limit: int, missing: str) -> str:
    # The one name rule (tenants.validators), with the sign-up page's own words for a gap.
    text = name_clean(value, field=field, limit=limit, required=False)
    if not text:
        raise ValidationError({field: missing})
    return text


def _email(value: Any) -> str:
    email = str(value or "").strip().lower()
    try:
        if not email or len(email) > 254:
            raise ValidationError("length")
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
    return email


def _slug(value: Any, firm_name: str) -> str:
    try:
        return firm_slug_check(str(value or "").strip().lower() or slug_suggest(firm_name))
    except ValidationError as error:
        raise ValidationError({"slug": error.messages}) from None


def _lock(email: str) -> None:
    """Serialise sign-ups for one address until the transaction ends (a double submit waits for
    the first and then finds it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_SIGNUP_LOCK, f"signup:{email}"]
        )


def _notice_once(user: User, language: str) -> None:
    """In the sign-up's transaction: tell the account holder someone tried to sign up with
    their address, once per window, so strangers cannot use the page to fill an inbox."""
    digest = hashlib.sha256(user.email.lower().encode()).hexdigest()[:32]
    key = f"signup:notice:{digest}"
    if user.is_active and caches["routing"].add(key, 1, settings.SIGNUP_ATTEMPT_WINDOW_SECONDS):
        email_enqueue(
            kind=ACCOUNT_EXISTS,
            key=f"{user.pk}:{uuid.uuid4()}",
            recipient_id=user.pk,
            params={"language": language},
        )


def firm_signup(
    *,
    firm_name: Any,
    slug: Any,
    full_name: Any,
    email: Any,
    terms_accepted: bool,
    language: str,
    submission_key: uuid.UUID | None = None,
) -> SignupOutcome:
    """Create a firm and its first firm admin from the sign-up page.

    An empty `slug` is suggested from the name. Refuses (ValidationError keyed by field, nothing
    written) missing or overlong names, invisible characters, an invalid address, a short name
    that is invalid, reserved or taken, and terms not accepted. For an address that already has an
    account it creates nothing and returns ACCOUNT_EXISTS; a repeated `submission_key` (with the
    same address) returns REPEATED. Causes about ten queries in one transaction, which adds one e-mail
    (invitation or notice) to the outbox.
    """
    if terms_accepted is not True:
        raise ValidationError(
            {"accept_terms": _("Accept the terms and the processing agreement to continue.")}
        )
    firm_name = _text(
        firm_name, field="firm_name", limit=FIRM_NAME_MAX, missing=_("Enter the name of your firm.")
    )
    full_name = _text(
        full_name, field="full_name", limit=FULL_NAME_MAX, missing=_("Enter your full name.")
    )
    email = _email(email)
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with transaction.atomic():
        _lock(email)
        if submission_key is not None:
            earlier = FirmSignup.objects.filter(submission_key=submission_key).first()
            if earlier is not None:
                if earlier.accepted_by is not None and earlier.accepted_by.email == email:
                    return SignupOutcome.REPEATED
                submission_key = None  # the form sent again with another address: a new sign-up
        # Before the account check, so a taken short name reads the same for every address.
        slug = _slug(slug, firm_name)
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            _notice_once(existing, language)
            logger.info("Sign-up refused: the address has an account (user %s)", existing.pk)
            return SignupOutcome.ACCOUNT_EXISTS
        try:
            firm = firm_create(actor=Operator("signup"), slug=slug, name=firm_name)
        except ValidationError as error:  # a concurrent sign-up took the short name
            raise ValidationError({"slug": error.messages}) from None
        admin = user_create(
            actor=Operator("signup"),
            email=email,
            full_name=full_name,
            firm=firm,
            role=FirmMembership.Role.FIRM_ADMIN,
        )
        admin.language = language
        admin.save(update_fields=["language"])
        trial_start(firm=firm)
        FirmSignup.objects.create(
            firm=firm,
            accepted_by=admin,
            terms_url=settings.SIGNUP_TERMS_URL,
            submission_key=submission_key,
        )
        # In this transaction; a mail server or broker that is down never turns the created
        # firm into an error page (the outbox's worker sends it, and retries).
        email_enqueue(
            kind=INVITATION,
            key=f"signup:{firm.pk}",
            recipient_id=admin.pk,
            params={"language": language},
        )
    logger.info("Firm %s (%s) signed itself up", firm.pk, firm.slug)
    return SignupOutcome.CREATED
