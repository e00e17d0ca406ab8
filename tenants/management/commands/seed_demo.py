"""Fill an empty installation with a realistic demo firm.

    manage.py seed_demo --clients 5 --cases-per-client 120 --if-empty

Creates the firm "Demo Vertrouwenspersonen" (`--firm-slug`, default `demo`), N client
organisations with Dutch names (each with its own schema, cloned from the template), about one
adviser per eight clients (at least two) assigned as primary and sometimes backup, and per client
one contact person and one internal adviser. Everything goes through `tenants.services`.

Sign-in: all demo users share one random password, printed at the end with the logins. The firm
admin (admin@<firm-slug>.test) has no second factor, so the first sign-in shows authenticator
enrolment and backup codes; every other demo user has a confirmed authenticator and backup codes,
one of which is printed per user (each works once), so the demo needs no phone.

`--seed` makes names, sizes, contracts and assignments reproducible; passwords, backup codes and
authenticator keys are always random.

Cases hook: when an app named `cases` is installed, the command calls
`cases.demo.seed_cases(client=<ClientOrganisation>, count=<--cases-per-client>,
rng=<random.Random>)` inside each client's schema (`django_tenants.utils.tenant_context`), in
the same transaction as the client (not at all for a count of 0). It must create exactly
`count` cases and use only `rng` for randomness. Until case handling (or that function) exists,
the command says in one line that no cases were seeded, and goes on.

Each client is created in its own transaction (a schema per client would exhaust PostgreSQL's
lock table in one transaction at N=1000). Bad arguments change nothing; a failure half-way leaves
the firm with the clients made so far, and the command says how many.
"""

from __future__ import annotations

import importlib
import logging
import random
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.services import backup_codes_regenerate
from saas import hosts
from tenants import demo, services
from tenants.management.commands._common import OperatorCommand, check_range, describe
from tenants.models import ClientOrganisation, Firm
from tenants.trail import Operator
from tenants.validators import validate_slug_label

MAX_CLIENTS = 10_000
MAX_CASES_PER_CLIENT = 100_000
PROGRESS_EVERY = 50
# With cases, the first clients also get an annual report draft, a signal to the board and a sparring
# thread, so every role's first look shows its work (not all: PDFs and e-mails at N=1000).
BOARD_DEMO_CLIENTS = 3
QUIET_LOGGERS = ("tenants.services", "tenants.tasks", "celery.app.trace")


class Command(OperatorCommand):
    help = (
        "Create a demo firm with N client organisations, advisers, contact persons and "
        "internal advisers, and print the logins. See the module docstring for the cases hook."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients", type=int, required=True, help=f"Client organisations (1..{MAX_CLIENTS})."
        )
        parser.add_argument(
            "--cases-per-client",
            type=int,
            required=True,
            help=f"Cases per client (0..{MAX_CASES_PER_CLIENT}); needs the cases app.",
        )
        parser.add_argument("--firm-slug", default="demo")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (successfully) when the demo firm already exists.",
        )
        parser.add_argument("--seed", type=int, default=42, help="Seed for the synthetic data.")
        parser.add_argument(
            "--no-logins",
            action="store_true",
            help="Do not print the logins (dev.py prints them with demo_logins instead).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        client_count = options["clients"]
        cases_per_client = options["cases_per_client"]
        check_range(client_count, option="--clients", low=1, high=MAX_CLIENTS)
        check_range(cases_per_client, option="--cases-per-client", low=0, high=MAX_CASES_PER_CLIENT)
        seed = options["seed"]
        firm_slug = (options["firm_slug"] or "").strip().lower()
        try:
            validate_slug_label(firm_slug)
        except ValidationError as error:
            raise CommandError(f"--firm-slug: {describe(error)}") from None

        if Firm.objects.filter(slug=firm_slug).exists():
            if options["if_empty"]:
                self.stdout.write(
                    f"The demo firm “{firm_slug}” already exists: nothing done. "
                    f"Open {hosts.console_url()}"
                )
                return
            raise CommandError(
                f"A firm with the short name “{firm_slug}” already exists: nothing done. "
                "Use --if-empty to skip quietly, or another --firm-slug."
            )

        plan = demo.demo_plan(
            firm_slug=firm_slug,
            client_count=client_count,
            rng=random.Random(seed),
            today=timezone.localdate(),
        )
        taken = list(User.objects.filter(email__in=plan.emails()).values_list("email", flat=True))
        if taken:
            raise CommandError(
                f"{len(taken)} demo e-mail address(es) are already in use (e.g. {taken[0]}): "
                "nothing done. Choose another --firm-slug."
            )

        seed_cases = self._cases_hook(cases_per_client)
        seeder = _Seeder(plan=plan, cases_per_client=cases_per_client, seed=seed, hook=seed_cases)
        started = time.perf_counter()
        with self._quiet_services(options["verbosity"]):
            seeder.create_firm()
            for number, client_plan in enumerate(plan.clients, start=1):
                try:
                    seeder.create_client(client_plan)
                except Exception as error:
                    self.stderr.write(
                        f"Stopped at client {number} of {client_count} ({client_plan.slug}); "
                        f"the demo firm “{firm_slug}” keeps the {number - 1} made so far."
                    )
                    if isinstance(error, ValidationError):
                        raise CommandError(describe(error)) from None
                    raise
                if number % PROGRESS_EVERY == 0 or number == client_count:
                    elapsed = time.perf_counter() - started
                    self.stdout.write(
                        f"  {number}/{client_count} client organisations ({elapsed:.1f} s)"
                    )
        elapsed = time.perf_counter() - started
        self._report(plan, seeder, elapsed, logins=not options["no_logins"])

    def _cases_hook(self, cases_per_client: int) -> Any:
        """Return cases.demo.seed_cases when case handling is installed, else say why not."""
        if not apps.is_installed("cases"):
            self.stdout.write(
                "Cases: not seeded, because case handling is not installed yet (no app “cases”); "
                "--cases-per-client was ignored."
            )
            return None
        try:
            module = importlib.import_module("cases.demo")
        except ModuleNotFoundError as error:
            if error.name != "cases.demo":
                raise
            module = None
        seed_cases = getattr(module, "seed_cases", None)
        if seed_cases is None:
            # Case handling is being built: let the demo work meanwhile, and say so.
            self.stdout.write(
                "Cases: not seeded, because the cases app has no demo seeder yet "
                "(cases.demo.seed_cases); --cases-per-client was ignored."
            )
            return None
        self.stdout.write(f"Cases: {cases_per_client} per client organisation.")
        return seed_cases

    @contextmanager
    def _quiet_services(self, verbosity: int) -> Iterator[None]:
        # A few log lines per client (provisioned, schema checked by the in-process task when
        # there is no broker) would drown the progress lines at N=1000.
        loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
        previous = [logger.level for logger in loggers]
        if verbosity < 2:
            for logger in loggers:
                logger.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for logger, level in zip(loggers, previous, strict=True):
                logger.setLevel(level)

    def _report(
        self, plan: demo.DemoPlan, seeder: _Seeder, elapsed: float, *, logins: bool = True
    ) -> None:
        clients = len(plan.clients)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created “{plan.firm_name}” ({plan.firm_slug}): {clients} client organisations, "
                f"{len(plan.advisers)} advisers, {2 * clients} client users, "
                f"{seeder.assignment_count} assignments, in {elapsed:.1f} s "
                f"({1000 * elapsed / clients:.0f} ms per client organisation)."
            )
        )
        if not logins:
            return
        self.stdout.write("")
        self.stdout.write(f"Open {hosts.console_url()}")
        self.stdout.write(f"Demo password (every demo user): {seeder.password}")
        self.stdout.write(
            f"{plan.admin.email} has no second factor yet: the first sign-in shows the QR code "
            "for an authenticator app and the backup codes."
        )
        self.stdout.write(
            "Everyone else has an authenticator already: sign in with the password and the "
            "backup code below instead of an app code. Each backup code works once."
        )
        self.stdout.write("")
        rows = [("E-MAIL", "ROLE", "WHERE", "PASSWORD", "BACKUP CODE")]
        rows += [
            (login.email, login.role, login.where, seeder.password, login.backup_code or "(enrol)")
            for login in seeder.logins
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )


class _Login:
    __slots__ = ("backup_code", "email", "role", "where")

    def __init__(self, email: str, role: str, where: str, backup_code: str | None) -> None:
        self.email, self.role, self.where, self.backup_code = email, role, where, backup_code


class _Seeder:
    """Turns a DemoPlan into rows through the services, remembering the logins to print."""

    def __init__(self, *, plan: demo.DemoPlan, cases_per_client: int, seed: int, hook: Any) -> None:
        self.plan = plan
        self.cases_per_client = cases_per_client
        self.seed = seed
        self.hook = hook
        # Readable, random per run, never derived from --seed.
        self.password = "demo-" + "-".join(secrets.token_hex(2) for _ in range(4))
        # Hashing is deliberately slow; one hash shared by every demo user keeps N=1000 fast.
        self._password_hash = make_password(self.password)
        self.firm: Firm | None = None
        self.advisers: list[User] = []
        self.logins: list[_Login] = []
        self.assignment_count = 0
        self.clients_made = 0

    def create_firm(self) -> None:
        plan = self.plan
        with transaction.atomic():
            self.firm = services.firm_create(
                actor=Operator("seed_demo"), slug=plan.firm_slug, name=plan.firm_name
            )
            self._person(plan.admin, firm=self.firm, where=plan.firm_slug, second_factor=False)
            self.advisers = [
                self._person(person, firm=self.firm, where=plan.firm_slug, second_factor=True)
                for person in plan.advisers
            ]

    def create_client(self, client_plan: demo.ClientPlan) -> ClientOrganisation:
        assert self.firm is not None
        with transaction.atomic():
            client = services.client_create(
                actor=Operator("seed_demo"),
                firm=self.firm,
                slug=client_plan.slug,
                name=client_plan.name,
                employee_count=client_plan.employee_count,
                sector=client_plan.sector,
                contract_starts_on=client_plan.contract_starts_on,
                contract_ends_on=client_plan.contract_ends_on,
            )
            host = hosts.client_host(client_slug=client.slug, firm_slug=self.firm.slug)
            _contact, internal = (
                self._person(person, client=client, where=host, second_factor=True)
                for person in (client_plan.contact, client_plan.internal_adviser)
            )
            for adviser_index, kind in client_plan.assignments:
                services.assignment_create(
                    actor=Operator("seed_demo"),
                    client=client,
                    adviser=self.advisers[adviser_index],
                    kind=kind,
                    starts_on=client_plan.contract_starts_on,
                )
                self.assignment_count += 1
            if self.hook is not None and self.cases_per_client:
                with tenant_context(client):
                    self.hook(
                        client=client,
                        count=self.cases_per_client,
                        rng=random.Random(f"{self.seed}/{client.slug}"),
                    )
            self.clients_made += 1
            if (
                self.clients_made <= BOARD_DEMO_CLIENTS
                and self.hook is not None
                and self.cases_per_client
            ):
                adviser = self.advisers[client_plan.assignments[0][0]]
                with tenant_context(client):
                    _seed_board_and_sparring(adviser=adviser, internal=internal)
        return client

    def _person(
        self,
        person: demo.PersonPlan,
        *,
        where: str,
        second_factor: bool,
        firm: Firm | None = None,
        client: ClientOrganisation | None = None,
    ) -> User:
        user = services.user_create(
            actor=Operator("seed_demo"),
            email=person.email,
            full_name=person.full_name,
            firm=firm,
            client=client,
            role=person.role,
        )
        user.password = self._password_hash
        user.save(update_fields=["password"])
        backup_code = None
        if second_factor:
            TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
            backup_code = backup_codes_regenerate(user=user)[0]
        self.logins.append(_Login(person.email, person.role, where, backup_code))
        return user


def _seed_board_and_sparring(*, adviser: User, internal: User) -> None:
    """Through the services, inside the client's schema: last year's report as a draft with
    texts, a signal sent to the board, and a sparring thread the adviser answered."""
    if not (apps.is_installed("boardroom") and apps.is_installed("sparring")):
        return
    from boardroom import services as board
    from sparring import services as sparring

    report = board.report_draft_create(actor=adviser, year=timezone.localdate().year - 1)
    board.report_update(
        actor=adviser,
        report=report,
        narrative=(
            "Het jaar stond in het teken van werkdruk en de omgangsvormen in de teams. "
            "Medewerkers wisten de vertrouwenspersoon goed te vinden."
        ),
        recommendations=(
            "Maak omgangsvormen een vast onderwerp in het werkoverleg en train leidinggevenden "
            "in het voeren van lastige gesprekken."
        ),
        expected_version=report.version,
    )
    signal = board.signal_create(
        actor=adviser,
        title="Signalen over werkdruk in de teams",
        risk="Meerdere medewerkers noemen een hoge werkdruk en weinig ruimte om die te bespreken.",
        recommendation="Bespreek de werkverdeling in het managementoverleg van dit kwartaal.",
        severity="medium",
    )
    board.signal_send(actor=adviser, signal=signal)
    thread = sparring.thread_start(
        actor=internal,
        subject="Hoe ga ik om met een anonieme melding?",
        body=(
            "Een medewerker wil iets melden maar niet met naam genoemd worden. "
            "Wat kan ik toezeggen, en wat niet?"
        ),
    )
    sparring.message_add(
        actor=adviser,
        thread=thread,
        body=(
            "Goede vraag. U kunt vertrouwelijkheid toezeggen, maar geen volledige anonimiteit "
            "als er een onderzoek volgt. Zullen we het volgende week kort bespreken?"
        ),
    )
