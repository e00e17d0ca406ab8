"""Plans for synthetic demo data: Dutch client organisations, people and assignments.

Pure functions of a `random.Random` (no database): `manage.py seed_demo` turns a plan into rows
through `tenants.services`. The same seed gives the same plan; secrets (passwords, backup codes,
authenticator keys) are never derived from it.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass

from django.utils.text import slugify

from tenants.models import Assignment, ClientMembership, ClientOrganisation, FirmMembership
from tenants.validators import RESERVED_SLUGS

Sector = ClientOrganisation.Sector

# fmt: off
PLACES = (
    "Alkmaar", "Almelo", "Almere", "Alphen", "Amersfoort", "Amstelveen", "Apeldoorn", "Arnhem",
    "Assen", "Barneveld", "Bergen op Zoom", "Beverwijk", "Bodegraven", "Borne", "Breda",
    "Bunschoten", "Culemborg", "Delft", "Den Helder", "Deventer", "Diemen", "Doetinchem",
    "Dordrecht", "Drachten", "Dronten", "Ede", "Eindhoven", "Emmen", "Enschede", "Epe", "Ermelo",
    "Goes", "Gorinchem", "Gouda", "Groningen", "Haarlem", "Harderwijk", "Harlingen", "Heerenveen",
    "Heerlen", "Helmond", "Hengelo", "Hilversum", "Hoogeveen", "Hoorn", "Houten", "Kampen",
    "Katwijk", "Kerkrade", "Leeuwarden", "Leiden", "Lelystad", "Maastricht", "Meppel",
    "Middelburg", "Nieuwegein", "Nijkerk", "Nijmegen", "Oldenzaal", "Oss", "Purmerend",
    "Roermond", "Roosendaal", "Rotterdam", "Schagen", "Schiedam", "Sittard", "Sneek", "Soest",
    "Steenwijk", "Terneuzen", "Tiel", "Tilburg", "Uden", "Utrecht", "Veendam", "Veenendaal",
    "Venlo", "Venray", "Vlaardingen", "Vlissingen", "Waalwijk", "Wageningen", "Weert",
    "Winterswijk", "Woerden", "Zaandam", "Zeist", "Zevenaar", "Zoetermeer", "Zutphen", "Zwolle",
    "'s-Hertogenbosch", "Súdwest-Fryslân",
)

REGIONS = (
    "Achterhoek", "Amstelland", "Betuwe", "De Liemers", "Drechtsteden", "Drenthe", "Flevoland",
    "Fryslân", "Gooi en Vechtstreek", "Groningen", "Haaglanden", "Hollands Midden",
    "Kennemerland", "Kop van Noord-Holland", "Midden-Brabant", "Midden-Limburg",
    "Noord-Limburg", "Noordoost-Brabant", "Rijnmond", "Rivierenland", "Salland",
    "Twente", "Utrecht-West", "Veluwe", "Vallei", "West-Brabant", "Westfriesland",
    "Zaanstreek", "Zeeland", "Zuid-Limburg", "Zuidoost-Brabant", "IJsselland",
)

SURNAMES = (
    "De Vries", "Jansen", "Van den Berg", "Bakker", "Visser", "Smit", "Meijer", "De Boer",
    "Mulder", "De Groot", "Bos", "Vos", "Peters", "Hendriks", "Van Leeuwen", "Dekker", "Brouwer",
    "De Wit", "Dijkstra", "Smits", "De Graaf", "Van der Meer", "Van der Linden", "Kok", "Jacobs",
    "De Haan", "Vermeulen", "Van den Heuvel", "Van der Veen", "Van den Broek", "De Bruijn",
    "De Jong", "Schouten", "Van Dijk", "Hoekstra", "Willems", "Verbeek", "Postma", "Kuipers",
    "Koster", "Prins", "Huisman", "Peeters", "Van Wijk", "Maas", "Verhoeven", "Timmermans",
    "Groen", "Gerritsen", "Evers", "Yilmaz", "Bouali", "Kaya", "Nguyen", "Pinas",
)

FIRST_NAMES = (
    "Anouk", "Bram", "Daan", "Emma", "Fatima", "Sanne", "Lotte", "Mohammed", "Youssef",
    "Sophie", "Thijs", "Lieke", "Jeroen", "Marieke", "Kees", "Ingrid", "Priya", "Sevda",
    "Mehmet", "Noor", "Joost", "Femke", "Ruben", "Iris", "Wouter", "Esther", "Hanneke", "Pieter",
    "Linda", "Marco", "Nadia", "Stefan", "Maaike", "Gerrit", "Annemieke", "Rik", "Yara", "Tim",
)

LANDMARKS = ("De Gouden Leeuw", "Het Anker", "De Zwaan", "De Linde", "Het Wapen", "De Molen")

# sector: (relative weight, smallest and largest head count, name patterns)
SECTOR_PROFILES: dict[str, tuple[int, int, int, tuple[str, ...]]] = {
    Sector.HEALTHCARE: (20, 40, 6000, (
        "Zorggroep {region}", "Ziekenhuis {place}", "Thuiszorg {region}", "GGZ {region}",
        "Zorgcentrum {place}", "Jeugdzorg {region}", "Huisartsengroep {place}",
        "Revalidatiecentrum {region}",
    )),
    Sector.EDUCATION: (15, 30, 4000, (
        "Stichting Openbaar Onderwijs {region}", "Scholengroep {place}", "ROC {region}",
        "Christelijk Lyceum {place}", "Kindcentrum {place}", "Hogeschool {region}",
        "Stichting Primair Onderwijs {place}",
    )),
    Sector.GOVERNMENT: (12, 80, 5000, (
        "Gemeente {place}", "Waterschap {region}", "Omgevingsdienst {region}",
        "Veiligheidsregio {region}", "GGD {region}", "Belastingsamenwerking {region}",
    )),
    Sector.INDUSTRY: (15, 20, 1500, (
        "Bouwbedrijf {surname}", "{surname} Installatietechniek", "Metaalbewerking {place}",
        "{surname} Transport", "Betonfabriek {place}", "{surname} Machinebouw",
        "Aannemersbedrijf {surname}",
    )),
    Sector.RETAIL: (10, 15, 800, (
        "Supermarkt {surname}", "Hotel {landmark} {place}", "Horecagroep {region}",
        "{surname} Mode", "Tuincentrum {place}", "Bakkerij {surname}",
    )),
    Sector.SERVICES: (15, 10, 2500, (
        "{surname} Advocaten", "Accountantskantoor {surname}", "Logistiek Centrum {place}",
        "ICT Groep {region}", "{surname} & Partners", "Schoonmaakbedrijf {region}",
    )),
    Sector.NONPROFIT: (8, 10, 900, (
        "Stichting Welzijn {place}", "Bibliotheek {region}", "Museum {place}", "Theater {place}",
        "Vluchtelingenwerk {region}", "Stichting Kinderopvang {place}",
    )),
    Sector.OTHER: (5, 10, 600, (
        "Woningcorporatie {place}", "Sportcentrum {place}", "Omroep {region}",
        "Vereniging Dorpsbelang {place}", "Stichting Natuurbeheer {region}",
    )),
}
# fmt: on

CLIENTS_PER_ADVISER = 8
MINIMUM_ADVISERS = 2
BACKUP_SHARE = 0.35
SLUG_MAX_LENGTH = 40


@dataclass(frozen=True)
class PersonPlan:
    email: str
    full_name: str
    role: str
    # Slug of the client for client roles; None for firm roles.
    client_slug: str | None = None


@dataclass(frozen=True)
class ClientPlan:
    slug: str
    name: str
    sector: str
    employee_count: int
    contract_starts_on: datetime.date
    contract_ends_on: datetime.date | None
    contact: PersonPlan
    internal_adviser: PersonPlan
    # (index into DemoPlan.advisers, assignment kind)
    assignments: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class DemoPlan:
    firm_slug: str
    firm_name: str
    admin: PersonPlan
    advisers: tuple[PersonPlan, ...]
    clients: tuple[ClientPlan, ...]

    def emails(self) -> list[str]:
        """Return every e-mail address the plan would create."""
        people = [self.admin, *self.advisers]
        for client in self.clients:
            people += [client.contact, client.internal_adviser]
        return [person.email for person in people]


def adviser_count(client_count: int) -> int:
    """About one adviser per eight clients, at least two (so backups differ from primaries)."""
    return max(MINIMUM_ADVISERS, math.ceil(client_count / CLIENTS_PER_ADVISER))


def demo_plan(
    *, firm_slug: str, client_count: int, rng: random.Random, today: datetime.date
) -> DemoPlan:
    """Plan a demo firm with `client_count` clients; deterministic for a given `rng` state."""
    domain = f"{firm_slug}.test"
    firm_name = "Demo Vertrouwenspersonen"
    if firm_slug != "demo":
        firm_name += f" ({firm_slug})"
    admin = PersonPlan(
        email=f"admin@{domain}",
        full_name=person_name(rng),
        role=FirmMembership.Role.FIRM_ADMIN,
    )
    total_advisers = adviser_count(client_count)
    width = max(2, len(str(total_advisers)))
    advisers = tuple(
        PersonPlan(
            email=f"adviser{number:0{width}d}@{domain}",
            full_name=person_name(rng),
            role=FirmMembership.Role.ADVISER,
        )
        for number in range(1, total_advisers + 1)
    )
    names: set[str] = set()
    slugs: set[str] = set()
    clients = []
    for index in range(client_count):
        sector, name = _client_name(rng, names)
        slug = _unique_slug(name, slugs)
        _weight, smallest, largest, _patterns = SECTOR_PROFILES[sector]
        starts_on, ends_on = _contract(rng, today)
        primary = index % total_advisers
        assignments: list[tuple[int, str]] = [(primary, Assignment.Kind.PRIMARY)]
        if rng.random() < BACKUP_SHARE:
            backup = (primary + 1 + rng.randrange(total_advisers - 1)) % total_advisers
            assignments.append((backup, Assignment.Kind.BACKUP))
        clients.append(
            ClientPlan(
                slug=slug,
                name=name,
                sector=sector,
                employee_count=_log_uniform(rng, smallest, largest),
                contract_starts_on=starts_on,
                contract_ends_on=ends_on,
                contact=PersonPlan(
                    email=f"contact.{slug}@{domain}",
                    full_name=person_name(rng),
                    role=ClientMembership.Role.CONTACT_PERSON,
                    client_slug=slug,
                ),
                internal_adviser=PersonPlan(
                    email=f"internal.{slug}@{domain}",
                    full_name=person_name(rng),
                    role=ClientMembership.Role.INTERNAL_ADVISER,
                    client_slug=slug,
                ),
                assignments=tuple(assignments),
            )
        )
    return DemoPlan(
        firm_slug=firm_slug,
        firm_name=firm_name,
        admin=admin,
        advisers=advisers,
        clients=tuple(clients),
    )


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {_lower_prefix(rng.choice(SURNAMES))}"


def _lower_prefix(surname: str) -> str:
    # Dutch writes "Anouk van der Meer" after a first name, "Van der Meer" on its own.
    words = surname.split(" ")
    return " ".join([word.lower() for word in words[:-1]] + words[-1:])


def _client_name(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """Pick a sector and an unused organisation name for it; adds the name to `taken`."""
    sectors = list(SECTOR_PROFILES)
    weights = [SECTOR_PROFILES[sector][0] for sector in sectors]
    for _attempt in range(50):
        sector = rng.choices(sectors, weights)[0]
        pattern = rng.choice(SECTOR_PROFILES[sector][3])
        name = pattern.format(
            place=rng.choice(PLACES),
            region=rng.choice(REGIONS),
            surname=rng.choice(SURNAMES),
            landmark=rng.choice(LANDMARKS),
        )
        if name not in taken:
            break
    else:
        # The combinations run out only in the thousands; a branch office keeps names distinct.
        number = 2
        while f"{name} {number}" in taken:
            number += 1
        name = f"{name} {number}"
    taken.add(name)
    return sector, name


def _unique_slug(name: str, taken: set[str]) -> str:
    """A valid, unused host label derived from `name`; adds it to `taken`."""
    base = slugify(name)[:SLUG_MAX_LENGTH].strip("-") or "client"
    slug, number = base, 2
    while slug in taken or slug in RESERVED_SLUGS or len(slug) < 2:
        suffix = f"-{number}"
        slug = base[: SLUG_MAX_LENGTH - len(suffix)].strip("-") + suffix
        number += 1
    taken.add(slug)
    return slug


def _contract(
    rng: random.Random, today: datetime.date
) -> tuple[datetime.date, datetime.date | None]:
    """A contract that began on the first of a month in the last four years; some have an end."""
    months_ago = rng.randint(1, 48)
    month_index = today.year * 12 + today.month - 1 - months_ago
    starts_on = datetime.date(month_index // 12, month_index % 12 + 1, 1)
    if rng.random() < 0.6:
        return starts_on, None
    years = rng.randint(1, 4)
    # Fixed-term contracts renew yearly until they run past today.
    while datetime.date(starts_on.year + years, starts_on.month, 1) <= today:
        years += 1
    return starts_on, datetime.date(
        starts_on.year + years, starts_on.month, 1
    ) - datetime.timedelta(1)


def _log_uniform(rng: random.Random, smallest: int, largest: int) -> int:
    """Head counts spread evenly over orders of magnitude, as organisation sizes are."""
    return round(math.exp(rng.uniform(math.log(smallest), math.log(largest))))
