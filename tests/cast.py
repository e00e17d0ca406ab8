"""The fixed cast every test can use (built once per test session, committed).

Firm A ("acme") has two clients: `a1` (adviser_a primary, adviser_a_backup backup) and `a2`
(nobody assigned). Firm B ("bravo") has `b1` (adviser_b), a Belgian client: its employer's
prevention adviser and an inspector read its register of acts by third parties, which holds one
declaration. Everybody has a confirmed authenticator.
Each test runs in a transaction that is rolled back, so tests may change the cast freely.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tenants import services
from tenants.models import ClientOrganisation, Firm
from tenants.trail import Operator

PASSWORD = "correct horse battery staple"

USERS = {
    # key: (email, role, firm slug or None, client slug or None)
    "admin_a": ("admin@acme.test", "firm_admin", "acme", None),
    "adviser_a": ("adviser@acme.test", "adviser", "acme", None),
    "adviser_a_backup": ("backup@acme.test", "adviser", "acme", None),
    "adviser_a_unassigned": ("idle@acme.test", "adviser", "acme", None),
    "contact_a1": ("hr@client-a1.test", "contact_person", None, "a1"),
    "internal_a1": ("internal@client-a1.test", "internal_adviser", None, "a1"),
    "contact_a2": ("hr@client-a2.test", "contact_person", None, "a2"),
    "admin_b": ("admin@bravo.test", "firm_admin", "bravo", None),
    "adviser_b": ("adviser@bravo.test", "adviser", "bravo", None),
    "contact_b1": ("hr@client-b1.test", "contact_person", None, "b1"),
    "internal_b1": ("internal@client-b1.test", "internal_adviser", None, "b1"),
    # Belgium: the roles that read b1's register of acts by third parties (and nothing else).
    "prevention_b1": ("prevention@client-b1.test", "prevention_adviser", None, "b1"),
    "inspector_b1": ("inspector@client-b1.test", "inspector", None, "b1"),
}


def build_cast() -> None:
    acme = services.firm_create(
        actor=Operator("test"), slug="acme", name="Acme Vertrouwenspersonen"
    )
    bravo = services.firm_create(actor=Operator("test"), slug="bravo", name="Bravo Advies")
    start = timezone.localdate() - datetime.timedelta(days=30)
    clients = {
        "a1": services.client_create(
            actor=Operator("test"),
            firm=acme,
            slug="a1",
            name="Zorggroep Noord",
            employee_count=420,
            sector="healthcare",
            contract_starts_on=start,
        ),
        "a2": services.client_create(
            actor=Operator("test"),
            firm=acme,
            slug="a2",
            name="Gemeente Zuid",
            employee_count=900,
            sector="government",
            contract_starts_on=start,
        ),
        "b1": services.client_create(
            actor=Operator("test"),
            firm=bravo,
            slug="b1",
            name="Bouwbedrijf West",
            employee_count=120,
            sector="industry",
            country="BE",
            contract_starts_on=start,
        ),
    }
    firms = {"acme": acme, "bravo": bravo}
    users = {}
    for key, (email, role, firm_slug, client_slug) in USERS.items():
        users[key] = services.user_create(
            actor=Operator("test"),
            email=email,
            full_name=key.replace("_", " ").title(),
            password=PASSWORD,
            role=role,
            firm=firms[firm_slug] if firm_slug else None,
            client=clients[client_slug] if client_slug else None,
        )
        TOTPDevice.objects.create(user=users[key], name="Authenticator", confirmed=True)
    services.assignment_create(
        actor=Operator("test"), client=clients["a1"], adviser=users["adviser_a"], starts_on=start
    )
    services.assignment_create(
        actor=Operator("test"),
        client=clients["a1"],
        adviser=users["adviser_a_backup"],
        kind="backup",
        starts_on=start,
    )
    services.assignment_create(
        actor=Operator("test"), client=clients["b1"], adviser=users["adviser_b"], starts_on=start
    )
    _build_cases(clients, users)
    _build_sparring(clients, users)
    _build_board(clients, users, firms)
    _build_register(clients, users)


def _build_register(clients: dict[str, ClientOrganisation], users: dict[str, User]) -> None:
    """One declaration in b1's register of acts by third parties (b1 is Belgian)."""
    from django_tenants.utils import tenant_context

    from thirdparty import services as register

    with tenant_context(clients["b1"]):
        register.declaration_add(
            actor=users["adviser_b"],
            declared_on=timezone.localdate() - datetime.timedelta(days=7),
            kind="threats",
            outsider="customer",
            description="Een klant bedreigde een monteur op de bouwplaats.",
        )


# A valid 1x1 PNG: the cast's sparring attachment.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _build_sparring(clients: dict[str, ClientOrganisation], users: dict[str, User]) -> None:
    """One sparring thread with an attachment in a1 (internal_a1) and in b1 (internal_b1)."""
    from django_tenants.utils import tenant_context

    from sparring import services as sparring

    for client_key, author in (("a1", "internal_a1"), ("b1", "internal_b1")):
        with tenant_context(clients[client_key]):
            sparring.thread_start(
                actor=users[author],
                subject="Een lastige situatie op de afdeling",
                body="Hoe zouden jullie hiermee omgaan?",
                uploads=[sparring.Upload(name="schets.png", data=TINY_PNG)],
            )


def sparring_objects(client: ClientOrganisation) -> dict[str, Any]:
    """Ids of the cast's sparring thread and attachment in `client` (read in its schema)."""
    from django_tenants.utils import tenant_context

    from mail.models import OutgoingEmail
    from sparring.models import Attachment, Thread

    with tenant_context(client):
        thread = Thread.objects.order_by("created_at").first()
        attachment = Attachment.objects.filter(message__thread=thread).first()
    email = (
        OutgoingEmail.objects.filter(client=client, kind="sparring.message")
        .order_by("created_at")
        .first()
    )
    return {
        "thread_id": thread.pk if thread else None,
        "attachment_id": attachment.pk if attachment else None,
        "email_id": email.pk if email else None,
    }


def _build_cases(clients: dict[str, ClientOrganisation], users: dict[str, User]) -> None:
    """One case each in a1 and a2 (the same reference, …-0001) and in b1 (…-0100): the access
    walk uses a reference of the other firm's client as one that is foreign everywhere."""
    from django_tenants.utils import tenant_context

    from cases import services as case_services
    from cases.models import CaseCounter, Theme

    for client_key, adviser_key in [("a1", "adviser_a"), ("a2", "adviser_a"), ("b1", "adviser_b")]:
        with tenant_context(clients[client_key]):
            if client_key == "b1":
                CaseCounter.objects.create(year=timezone.localdate().year, last_number=99)
            case_services.case_open(
                actor=users[adviser_key],
                case_type="undesirable_behaviour",
                themes=[Theme.objects.get(code="bullying")],
                reporter_role="employee",
                accused_relation="colleague",
                channel="phone",
            )


# The cast's published annual report per client: a1 and a2 share the year, b1 has another, so
# the access walk's year of the other firm is foreign everywhere (the same goes for signal ids).
BOARD_YEAR_OFFSETS = {"a1": 1, "a2": 1, "b1": 2}
BATCH_YEAR_OFFSET = 3


def _build_board(
    clients: dict[str, ClientOrganisation], users: dict[str, User], firms: dict[str, Firm]
) -> None:
    """A published annual report and a sent signal in a1, a2 and b1; a finished batch of
    drafts per firm."""
    from django_tenants.utils import tenant_context

    from boardroom import services as board
    from boardroom.models import BoardSignal
    from reports import services as report_services

    this_year = timezone.localdate().year
    for client_key, adviser_key, admin_key in [
        ("a1", "adviser_a", "admin_a"),
        ("a2", "adviser_a", "admin_a"),
        ("b1", "adviser_b", "admin_b"),
    ]:
        with tenant_context(clients[client_key]):
            report = board.report_draft_create(
                actor=users[adviser_key], year=this_year - BOARD_YEAR_OFFSETS[client_key]
            )
            board.report_update(
                actor=users[adviser_key],
                report=report,
                narrative="Een rustig jaar met aandacht voor werkdruk.",
                recommendations="Blijf investeren in een veilige werkcultuur.",
                expected_version=report.version,
            )
            board.report_submit(actor=users[adviser_key], report=report)
            board.report_publish(actor=users[admin_key], report=report)
            fields = {
                "actor": users[adviser_key],
                "title": "Signalen over werkdruk",
                "risk": "Meerdere medewerkers noemen hoge werkdruk bij de teams in de zorg.",
                "recommendation": "Bespreek de werkverdeling in het managementoverleg.",
                "severity": "medium",
            }
            if client_key == "b1":  # so b1's signal id differs from a1's and a2's
                BoardSignal.objects.filter(pk=board.signal_create(**fields).pk).delete()
            board.signal_send(actor=users[adviser_key], signal=board.signal_create(**fields))
    for firm_key, admin_key in (("acme", "admin_a"), ("bravo", "admin_b")):
        report_services.report_batch_request(
            firm=firms[firm_key], year=this_year - BATCH_YEAR_OFFSET, actor=users[admin_key]
        )


def board_objects(client: ClientOrganisation, client_key: str) -> dict[str, Any]:
    """The year of the cast's published report, its signal id and its firm's batch id."""
    from django_tenants.utils import tenant_context

    from boardroom.models import BoardSignal
    from reports.models import ReportBatch

    with tenant_context(client):
        signal_id = BoardSignal.objects.order_by("pk").values_list("pk", flat=True).first()
    return {
        "year": timezone.localdate().year - BOARD_YEAR_OFFSETS[client_key],
        "signal_id": signal_id,
        "batch_id": ReportBatch.objects.filter(firm_id=client.firm_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first(),
    }


@dataclass
class Cast:
    acme: Firm
    bravo: Firm
    a1: ClientOrganisation
    a2: ClientOrganisation
    b1: ClientOrganisation
    users: dict[str, User]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None

    @staticmethod
    def host(client: ClientOrganisation) -> str:
        return client.domains.get(is_primary=True).domain

    def case_reference(self, client_key: str) -> str:
        """The reference of the cast's case in a client: a1, a2 or b1 (one query)."""
        from django_tenants.utils import tenant_context

        from cases.models import Case

        with tenant_context(getattr(self, client_key)):
            return Case.objects.order_by("-pk").values_list("reference", flat=True)[0]


def load_cast() -> Cast:
    return Cast(
        acme=Firm.objects.get(slug="acme"),
        bravo=Firm.objects.get(slug="bravo"),
        a1=ClientOrganisation.objects.get(firm__slug="acme", slug="a1"),
        a2=ClientOrganisation.objects.get(firm__slug="acme", slug="a2"),
        b1=ClientOrganisation.objects.get(firm__slug="bravo", slug="b1"),
        users={key: User.objects.get(email=email) for key, (email, *_rest) in USERS.items()},
    )


def sign_in(client: Any, user: User, *, verified: bool = True) -> None:
    """Sign the test client in; `verified` also passes the second factor (as otp_login does)."""
    client.force_login(user)
    if verified:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def fresh_client(cast: Any, *, since: datetime.date, slug: str = "fresh") -> ClientOrganisation:
    """A client of acme made in a test, none of whose years is released yet (the cast publishes
    its clients' annual reports, which releases their past years for good), with adviser_a
    assigned from `since`."""
    client = services.client_create(
        actor=Operator("test"),
        firm=cast.acme,
        slug=slug,
        name="Nieuwe Klant",
        employee_count=420,
        sector="healthcare",
        contract_starts_on=since,
    )
    services.assignment_create(
        actor=Operator("test"), client=client, adviser=cast.adviser_a, starts_on=since
    )
    return client
