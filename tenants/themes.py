"""A firm's case themes: its catalogue in the public schema and the copy in each client schema.

Cases refer to `cases.Theme` rows of their own schema (a foreign key cannot leave the schema, and
a client's schema must stand on its own for export, import and erasure). A firm decides about
themes once for all its clients, so the record is `FirmTheme` in the public schema: the themes
the firm added, and the standard themes it hid. `theme_catalogue_apply` makes one client
schema's `Theme` table follow it; it writes the whole catalogue, so applying twice, late or out
of order gives the same result.

Every change commits here first, then `tenants.tasks.themes_dispatch` queues one apply per
client schema of the firm (in-process without a broker). A new client gets the catalogue in
its creating transaction (`services.client_create`), and `themes_reconcile` applies every
catalogue again each night, in case a message was lost.

A change takes the firm's theme lock exclusively and a client creation takes it shared, so a
client created during a change either reads the changed catalogue or is listed by the change's
dispatch. Codes are derived once from the first name (`own_<slug>`) and never change, so cases,
rollups and published annual reports keep grouping by them after a rename.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tenants.models import Firm, FirmTheme
from tenants.validators import name_clean

if TYPE_CHECKING:
    from tenants.trail import Actor

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 80  # cases.Theme.name
OWN_THEME_POSITION = 95  # after the standard themes (10 to 90), before "Other" (100)
_CODE_PREFIX = "own_"
_CODE_SLUG_CHARS = 30
# First key of pg_advisory_xact_lock(int, int); the second is the firm. Any fixed number.
_THEME_LOCK = 720_261_130


class ThemeAlreadyAdded(Exception):
    """The add form was submitted twice; the first submission added `theme`."""

    def __init__(self, theme: FirmTheme) -> None:
        super().__init__(theme.name)
        self.theme = theme


def firm_themes_lock(firm_id: int, *, shared: bool = False) -> None:
    """Take the firm's theme lock until the transaction ends (shared: client creation)."""
    if not connection.in_atomic_block:
        raise RuntimeError("firm_themes_lock() must run inside transaction.atomic().")
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [_THEME_LOCK, firm_id % 2**31])


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def theme_name_clean(name: Any) -> str:
    """The name as stored, by the one rule for names (`tenants.validators.name_clean`: NFC, one
    space between words, no control or invisible characters, at most MAX_NAME_CHARS)."""
    return name_clean(name, field="name", limit=MAX_NAME_CHARS)


def _standard_names() -> set[str]:
    from cases.models import STANDARD_THEMES

    names = set()
    for language, _label in settings.LANGUAGES:
        with translation.override(language):
            names |= {_fold(str(label)) for label in STANDARD_THEMES.values()}
    return names


def _refuse_taken(firm: Firm, name: str, *, keep: FirmTheme | None = None) -> None:
    folded = _fold(name)
    if folded in _standard_names():
        raise ValidationError(
            {
                "name": _(
                    "“%(name)s” is the name of a standard theme; use that one or choose another "
                    "name."
                )
                % {"name": name}
            }
        )
    own = FirmTheme.objects.filter(firm=firm, is_standard=False)
    if keep is not None:
        own = own.exclude(pk=keep.pk)
    for other_name, other_active in own.values_list("name", "is_active"):
        if _fold(other_name) != folded:
            continue
        if other_active:
            raise ValidationError(
                {"name": _("Your firm already has a theme called “%(name)s”.") % {"name": name}}
            )
        raise ValidationError(
            {
                "name": _(
                    "Your firm already has a hidden theme called “%(name)s”; offer it again instead."
                )
                % {"name": name}
            }
        )


def _new_code(name: str, taken: set[str]) -> str:
    slug = slugify(name).replace("-", "_")[:_CODE_SLUG_CHARS].strip("_") or "theme"
    code = f"{_CODE_PREFIX}{slug}"
    number = 1
    while code in taken:
        number += 1
        code = f"{_CODE_PREFIX}{slug}_{number}"
    return code


def _active_count_after(firm: Firm, *, code: str, active: bool) -> int:
    """How many themes new cases could choose from if the theme `code` became `active`."""
    from cases.models import STANDARD_THEMES

    rows = dict(FirmTheme.objects.filter(firm=firm).values_list("code", "is_active"))
    states = {standard: rows.get(standard, True) for standard in STANDARD_THEMES}
    states.update(rows)
    states[code] = active
    return sum(states.values())


def _apply_everywhere_on_commit(firm_id: int) -> None:
    def dispatch() -> None:
        from tenants.tasks import themes_dispatch

        try:
            themes_dispatch.apply_async(args=[firm_id], headers={"_schema_name": "public"})
        except Exception:  # broker down: the change is saved; the nightly reconcile applies it
            logger.warning("Themes of firm %s not dispatched; the nightly run will", firm_id)

    transaction.on_commit(dispatch)


def _trail(actor: Actor, firm: Firm, detail: str) -> None:
    from tenants.trail import Action, trail_write

    trail_write(actor=actor, action=Action.THEME_CHANGE, firm_id=firm.pk, detail=detail)


def firm_theme_add(
    *, actor: Actor, firm: Firm, name: Any, submission_key: uuid.UUID | str | None = None
) -> FirmTheme:
    """Add a theme of the firm's own and apply it to every client schema after commit.

    Refuses a name the firm has already (any case, hidden themes too) or a standard theme's
    name in any language. A repeated `submission_key` raises ThemeAlreadyAdded instead of
    adding it twice. Causes about five queries, then one task per client.
    """
    name = theme_name_clean(name)
    with transaction.atomic():
        firm_themes_lock(firm.pk)
        if submission_key:
            earlier = FirmTheme.objects.filter(submission_key=submission_key).first()
            if earlier is not None and earlier.firm_id == firm.pk:
                raise ThemeAlreadyAdded(earlier)
            if earlier is not None:
                submission_key = None  # another firm's key: not ours to answer for
        _refuse_taken(firm, name)
        taken = set(FirmTheme.objects.filter(firm=firm).values_list("code", flat=True))
        theme = FirmTheme.objects.create(
            firm=firm,
            code=_new_code(name, taken),
            name=name,
            position=OWN_THEME_POSITION,
            submission_key=submission_key or None,
        )
        _trail(actor, firm, f"added {theme.code}")
        _apply_everywhere_on_commit(firm.pk)
    logger.info("Firm %s added theme %s", firm.pk, theme.code)
    return theme


def firm_theme_rename(*, actor: Actor, firm: Firm, theme: FirmTheme, name: Any) -> FirmTheme:
    """Rename one of the firm's own themes (its code stays); standard themes keep their names."""
    if theme.firm_id != firm.pk:
        raise ValueError("Not a theme of this firm.")
    if theme.is_standard:
        raise ValidationError(_("Standard themes cannot be renamed."))
    name = theme_name_clean(name)
    with transaction.atomic():
        firm_themes_lock(firm.pk)
        locked = FirmTheme.objects.get(pk=theme.pk)
        if locked.name == name:
            return locked
        _refuse_taken(firm, name, keep=locked)
        locked.name = name
        locked.updated_at = timezone.now()
        locked.save(update_fields=["name", "updated_at"])
        _trail(actor, firm, f"renamed {locked.code}")
        _apply_everywhere_on_commit(firm.pk)
    logger.info("Firm %s renamed theme %s", firm.pk, locked.code)
    return locked


def firm_theme_set_active(*, actor: Actor, firm: Firm, theme: FirmTheme, active: bool) -> FirmTheme:
    """Offer one of the firm's own themes for new cases again, or no longer (never deleted:
    existing cases and reports keep it)."""
    if theme.firm_id != firm.pk:
        raise ValueError("Not a theme of this firm.")
    if theme.is_standard:
        raise ValueError("Standard themes are shown and hidden by code.")
    with transaction.atomic():
        firm_themes_lock(firm.pk)
        locked = FirmTheme.objects.get(pk=theme.pk)
        if locked.is_active == active:
            return locked
        if active:
            # A theme hidden under a name that was given to another one since.
            _refuse_taken(firm, locked.name, keep=locked)
        else:
            _refuse_last(firm, locked.code)
        locked.is_active = active
        locked.updated_at = timezone.now()
        locked.save(update_fields=["is_active", "updated_at"])
        _trail(actor, firm, f"{'offered' if active else 'hidden'} {locked.code}")
        _apply_everywhere_on_commit(firm.pk)
    logger.info("Firm %s set theme %s active=%s", firm.pk, locked.code, active)
    return locked


def _refuse_last(firm: Firm, code: str) -> None:
    if _active_count_after(firm, code=code, active=False) == 0:
        raise ValidationError(_("At least one theme must stay available for new cases."))


def standard_theme_set_active(*, actor: Actor, firm: Firm, code: str, active: bool) -> None:
    """Hide a standard theme from new cases of every client of the firm, or show it again.

    The firm's row for it is made the first time; a standard theme without one is shown.
    """
    from cases.models import STANDARD_THEMES

    if code not in STANDARD_THEMES:
        raise ValueError(f"{code!r} is not a standard theme.")
    with transaction.atomic():
        firm_themes_lock(firm.pk)
        row = FirmTheme.objects.filter(firm=firm, code=code, is_standard=True).first()
        if (row.is_active if row is not None else True) == active:
            return
        if not active:
            _refuse_last(firm, code)
        if row is None:
            row = FirmTheme.objects.create(
                firm=firm, code=code, is_standard=True, is_active=active, position=0
            )
        else:
            row.is_active = active
            row.updated_at = timezone.now()
            row.save(update_fields=["is_active", "updated_at"])
        _trail(actor, firm, f"{'offered' if active else 'hidden'} {code}")
        _apply_everywhere_on_commit(firm.pk)
    logger.info("Firm %s set standard theme %s active=%s", firm.pk, code, active)


def theme_catalogue_apply(*, firm_id: int) -> int:
    """Inside one client's schema: make its `Theme` table follow the firm's catalogue.

    Adds the firm's own themes it lacks, renames and (de)activates the others, (de)activates
    standard themes; never deletes a row. Idempotent; one transaction holding the table's lock,
    so two applies at once run one after the other and the later one reads the newer
    catalogue. Returns how many rows changed. Causes four to six queries.
    """
    from cases.models import Theme

    if connection.schema_name == "public":
        raise RuntimeError("theme_catalogue_apply must run in a client organisation's schema.")
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Self-conflicting, but readers and foreign-key checks from case rows pass.
            cursor.execute(f'LOCK TABLE "{Theme._meta.db_table}" IN SHARE ROW EXCLUSIVE MODE')
        catalogue = list(FirmTheme.objects.filter(firm_id=firm_id))
        hidden = [row.code for row in catalogue if row.is_standard and not row.is_active]
        changed = Theme.objects.filter(is_standard=True, is_active=True, code__in=hidden).update(
            is_active=False
        )
        changed += (
            Theme.objects.filter(is_standard=True, is_active=False)
            .exclude(code__in=hidden)
            .update(is_active=True)
        )
        own = [row for row in catalogue if not row.is_standard]
        present = {
            theme.code: theme
            for theme in Theme.objects.filter(code__in=[row.code for row in own], is_standard=False)
        }
        created, updated = [], []
        for row in own:
            theme = present.get(row.code)
            if theme is None:
                created.append(
                    Theme(
                        code=row.code,
                        name=row.name,
                        is_standard=False,
                        is_active=row.is_active,
                        position=row.position,
                    )
                )
            elif (theme.name, theme.is_active, theme.position) != (
                row.name,
                row.is_active,
                row.position,
            ):
                theme.name, theme.is_active, theme.position = row.name, row.is_active, row.position
                updated.append(theme)
        Theme.objects.bulk_create(created)
        Theme.objects.bulk_update(updated, ["name", "is_active", "position"])
    return changed + len(created) + len(updated)
