"""The register of acts by third parties (Belgium; tenant schema).

Codex welzijn op het werk: workers declare violence or harassment by people from outside the
organisation (customers, patients, visitors, ...); the confidential adviser keeps the
declarations, **without the worker's identity**, for five years from the declaration. So this
model has no field for a person at all: the kind of act, of the outsider, the dates, and the
facts as encrypted free text. Who recorded it is a plain user id (the adviser), not the worker.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.fields import EncryptedTextField

RETENTION_YEARS = 5


class Declaration(models.Model):
    class Kind(models.TextChoices):
        VIOLENCE = "violence", _("Violence")
        HARASSMENT = "harassment", _("Moral harassment")
        SEXUAL_HARASSMENT = "sexual_harassment", _("Sexual harassment")
        THREATS = "threats", _("Threats or intimidation")
        OTHER = "other", _("Other undesirable behaviour")

    class Outsider(models.TextChoices):
        CUSTOMER = "customer", _("Customer or client")
        PATIENT = "patient", _("Patient or resident")
        PUPIL = "pupil", _("Pupil, student or parent")
        VISITOR = "visitor", _("Visitor or member of the public")
        SUPPLIER = "supplier", _("Supplier or contractor")
        OTHER = "other", _("Other person from outside")

    # Random: ids must not tell how many declarations another client has.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    declared_on = models.DateField(_("declared on"))
    facts_on = models.DateField(_("date of the facts"), null=True, blank=True)
    kind = models.CharField(_("kind of act"), max_length=30, choices=Kind.choices)
    outsider = models.CharField(_("by"), max_length=20, choices=Outsider.choices)
    description = EncryptedTextField(_("description of the facts"))
    # Five years from the declaration; `thirdparty.tasks` destroys the row after it.
    destroy_after = models.DateField(_("kept until"))
    recorded_by_id = models.BigIntegerField()
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("declaration of an act by a third party")
        verbose_name_plural = _("declarations of acts by third parties")
        ordering = ["-declared_on", "-created_at"]
        indexes = [models.Index(fields=["destroy_after"], name="thirdparty_destroy_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(facts_on__isnull=True) | Q(facts_on__lte=models.F("declared_on")),
                name="thirdparty_facts_before_declaration",
            ),
            models.CheckConstraint(
                condition=Q(destroy_after__gt=models.F("declared_on")),
                name="thirdparty_destroy_after_declaration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.declared_on} {self.kind}"
