"""Synthetic demo cases: exact counts, reproducible from the seed, consistent with the rules."""

from __future__ import annotations

import io
import random

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from cases.demo import seed_cases
from cases.models import Case, Conversation, TimeEntry
from tenants.models import ClientOrganisation
from workindex.models import CaseworkEntry


def _seed(cast, seed: int, count: int) -> list[tuple]:
    with tenant_context(cast.a1):
        before = set(Case.objects.values_list("pk", flat=True))
        assert seed_cases(client=cast.a1, count=count, rng=random.Random(seed)) == count
        new = Case.objects.exclude(pk__in=before).order_by("reference")
        return [
            (
                c.reference,
                c.case_type,
                c.opened_on,
                c.phase,
                c.outcome,
                c.reporter_identity,
                sorted(t.code for t in c.themes.all()),
            )
            for c in new.prefetch_related("themes")
        ]


def test_seed_cases_is_exact_and_reproducible(cast):
    with transaction.atomic():
        first = _seed(cast, seed=7, count=150)
        transaction.set_rollback(True)
    second = _seed(cast, seed=7, count=150)
    assert first == second and len(first) == 150
    assert len({row[0] for row in first}) == 150  # unique references
    today = timezone.localdate()
    with tenant_context(cast.a1):
        seeded = Case.objects.filter(reference__in=[row[0] for row in first])
        assert seeded.filter(phase="closed").exists() and seeded.exclude(phase="closed").exists()
        for case in seeded.filter(retention_until__lt=today):
            assert case.destroyed_at is not None and case.reporter_identity == ""
        assert not seeded.filter(opened_on__gt=today).exists()
        assert (
            Conversation.objects.filter(case__in=seeded).count()
            == TimeEntry.objects.filter(case__in=seeded).count()
        )
        open_references = set(seeded.exclude(phase="closed").values_list("reference", flat=True))
    indexed = set(
        CaseworkEntry.objects.filter(
            client=cast.a1, case_reference__in=[row[0] for row in first]
        ).values_list("case_reference", flat=True)
    )
    assert indexed == open_references


def test_seed_cases_refuses_the_wrong_schema(cast):
    with tenant_context(cast.b1), pytest.raises(RuntimeError):
        seed_cases(client=cast.a1, count=1, rng=random.Random(1))


def test_seed_demo_command_seeds_cases_per_client(cast, settings):
    settings.DEBUG = True  # demo_logins below
    call_command(
        "seed_demo",
        "--clients",
        "2",
        "--cases-per-client",
        "9",
        "--firm-slug",
        "democases",
        stdout=io.StringIO(),
    )
    clients = list(ClientOrganisation.objects.filter(firm__slug="democases").order_by("pk"))
    assert len(clients) == 2
    for client in clients:
        with tenant_context(client):
            assert Case.objects.count() == 9
            # Nothing before the contract: the firm's invoicing counts these hours.
            assert not Case.objects.filter(opened_on__lt=client.contract_starts_on).exists()
            assert not TimeEntry.objects.filter(worked_on__lt=client.contract_starts_on).exists()
            # Every role's first look shows something: a draft with texts, a sent signal, a
            # sparring thread with an answer.
            from boardroom.models import AnnualReport, BoardSignal
            from sparring.models import Message, Thread

            [report] = AnnualReport.objects.all()
            assert (report.year, report.status) == (timezone.localdate().year - 1, "draft")
            assert report.narrative and report.recommendations
            assert list(BoardSignal.objects.values_list("status", flat=True)) == ["sent"]
            assert Thread.objects.count() == 1 and Message.objects.count() == 2


def test_demo_logins_print_a_fixed_password_and_fresh_codes_on_every_run(cast, settings):
    """A restarted dev.py printed no logins; the random password and used codes locked the
    newcomer out after one sign-out."""
    from django.contrib.auth.hashers import check_password
    from django.core.management.base import CommandError
    from django_otp.plugins.otp_static.models import StaticToken

    from accounts.models import User
    from tenants.management.commands.demo_logins import DEMO_PASSWORD

    call_command(
        "seed_demo", "--clients", "1", "--cases-per-client", "0", "--firm-slug", "dl",
        "--no-logins", stdout=io.StringIO(),
    )  # fmt: skip
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only runs with DEBUG=1"):
        call_command("demo_logins", "--firm-slug", "dl", stdout=io.StringIO())
    assert not check_password(DEMO_PASSWORD, User.objects.get(email="admin@dl.test").password)
    settings.DEBUG = True

    def logins() -> dict[str, list[str]]:
        out = io.StringIO()
        call_command("demo_logins", "--firm-slug", "dl", stdout=out)
        text = out.getvalue()
        assert f"Demo password (every demo user): {DEMO_PASSWORD}" in text
        lines = text.splitlines()
        header = next(i for i, line in enumerate(lines) if line.startswith("E-MAIL"))
        return {line.split()[0]: line.split()[1:] for line in lines[header + 1 :]}

    first = logins()
    users = User.objects.filter(email__endswith="@dl.test")
    assert sorted(first) == sorted(users.values_list("email", flat=True))
    assert first["admin@dl.test"][-1] == "(enrol)"
    for user in users:
        assert check_password(DEMO_PASSWORD, user.password)
    contact = next(email for email in first if email.startswith("contact."))
    code = first[contact][-1]
    assert StaticToken.objects.filter(device__user__email=contact, token=code).exists()
    second = logins()
    assert second[contact][-1] != code
    assert StaticToken.objects.filter(
        device__user__email=contact, token=second[contact][-1]
    ).exists()
    # Nobody outside the demo firm is touched.
    assert not check_password(DEMO_PASSWORD, cast.adviser_a.password)


def test_seeded_cases_reach_the_portfolio_rollups_at_once(cast):
    from django.db.models import Sum

    from reports.models import CaseRollup

    def opened_total() -> int:
        rows = CaseRollup.objects.filter(client=cast.a1, dimension="case_type")
        return rows.aggregate(total=Sum("count"))["total"] or 0

    before = opened_total()
    with tenant_context(cast.a1):
        seed_cases(client=cast.a1, count=40, rng=random.Random(3))
        cases = Case.objects.count()
    assert opened_total() == cases and cases >= before + 40
