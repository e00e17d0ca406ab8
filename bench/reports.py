"""Time the released figures at firm scale: the client dashboard, the firm portfolio, and the
cost of proving one release as the ledger grows.

    .venv/bin/python bench/reports.py [--clients 1000] [--cases-per-client 200] [--samples 30]
                                      [--processes 2] [--database NAME] [--keep | --reuse]

1. **Data** (skipped with `--reuse`, which takes the database a `--keep` run left). In a
   database of its own (`vertrouwd_bench_reports` unless `--database`), `manage.py seed_demo`
   builds firm "demo" with `--clients` client organisations (each a schema cloned from the
   template through `tenants.services.client_create`, a contact person and an internal adviser)
   and `--cases-per-client` cases each, over three years with more recent than old ones and
   the demo's weights for types, themes, roles, relations, channels and outcomes; cases and
   everything that hangs from them go in by bulk insert (`cases.demo.seed_cases`), as the
   services would take hours at this size.
2. **The ledger.** The nightly release task (`reports.tasks.releases_client`, the real
   release code: every due quarter of last year and this year, each proved with HiGHS against
   the client's earlier releases of its year) for every client, over `--processes` processes
   (a worker with that concurrency). On the way, at 10, 100 and 1,000 releases in the ledger
   and once it is full, a probe client's releases are removed (trigger off: the bench database
   is ours) and proved again quarter by quarter: the cost of one release against the ledger as
   it grows. Stock, in the same table: suppressing the same year's live tables once, alone
   (what every request did before releases; no earlier release to respect).
3. **Requests**, through Django's test client (in process, no network; production settings:
   DEBUG off, no Redis, so the locmem cache) with each host's routing and a signed-in user with
   a verified second factor:
   * the client dashboard `/board/` and its JSON `/board/data.json` (a contact person, the
     default period: the released year to date beside a year earlier) for `--samples` clients:
     the first request after the cache was cleared (figures built from the ledger) and warm
     requests; stock: the live suppression of the same two years per request (case rows read
     and suppressed, function call only: no template, so the ratio flatters stock);
   * the firm portfolio `/console/portfolio/` (the firm admin, all clients): the first request
     and warm ones for the default period, and the first request of other periods the picker
     offers; stock: the pre-release portfolio, the public monthly rollups summed and
     suppressed per request (function call only), and the rollups summed alone (a plain
     unsuppressed aggregate).

Goals (issue 11): dashboard p95 < 150 ms warm, portfolio p95 < 300 ms, at 1,000 clients x 200
cases with a year of releases. Exits 1 when one is missed. Drops the database at the end unless
--keep or --reuse.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable

from _common import (
    argument_parser,
    bench_database,
    load_average,
    p95,
    server_and_url,
    setup_django,
    signed_in,
    template_ready,
)

BENCH_DATABASE = "vertrouwd_bench_reports"
GOALS_MS = {"dashboard /board/, warm": 150.0, "portfolio, warm": 300.0}
LEDGER_SIZES = (10, 100, 1000)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class Timings:
    """Wall-clock and CPU milliseconds (this process: the database's share is not in it) per
    measurement. On a shared machine wall time includes waiting for a core; CPU time less so."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}

    def call(self, name: str, function: Callable[[], object]) -> object:
        cpu = time.process_time()
        started = time.perf_counter()
        result = function()
        self.wall.setdefault(name, []).append(_ms(started))
        self.cpu.setdefault(name, []).append((time.process_time() - cpu) * 1000)
        return result

    def get(self, name: str, browser: object, path: str) -> None:
        response = self.call(name, lambda: browser.get(path))  # type: ignore[attr-defined]
        assert response.status_code == 200, (path, response.status_code)  # type: ignore[attr-defined]


def _timed(function: Callable[[], object]) -> float:
    """Wall-clock milliseconds of one call."""
    started = time.perf_counter()
    function()
    return _ms(started)


# --- 1. data ------------------------------------------------------------------------------------


def _seed_clients(plan: object, chunk: list[object], cases: int, *, first: bool) -> None:
    """Create these planned clients with their cases (seed_demo's own seeder, in a process of
    its own)."""
    import logging

    from django.db import connections

    from accounts.models import User
    from cases.demo import seed_cases
    from tenants.management.commands import seed_demo
    from tenants.models import Firm

    connections.close_all()
    for name in seed_demo.QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    seeder = seed_demo._Seeder(plan=plan, cases_per_client=cases, seed=7, hook=seed_cases)  # type: ignore[arg-type]
    seeder.firm = Firm.objects.get(slug=plan.firm_slug)  # type: ignore[attr-defined]
    seeder.advisers = [User.objects.get(email=person.email) for person in plan.advisers]  # type: ignore[attr-defined]
    # Only the first clients get seed_demo's report draft, signal and sparring thread.
    seeder.clients_made = 0 if first else seed_demo.BOARD_DEMO_CLIENTS
    for number, client_plan in enumerate(chunk, start=1):
        seeder.create_client(client_plan)  # type: ignore[arg-type]
        if number % 40 == 0:
            # A connection that touched hundreds of client schemas caches their catalog
            # entries, and every schema cloned meanwhile costs it more (one process slowed
            # from 1 to 6 s per client after 500): start afresh now and then.
            connections.close_all()
    connections.close_all()


def seed(clients: int, cases: int, processes: int) -> None:
    """seed_demo's firm "demo" (its plan, its seeder: services for firm, clients and people,
    bulk inserts for cases), the clients made in `processes` processes."""
    import random

    from django.db import connections
    from django.utils import timezone

    from cases.demo import seed_cases
    from tenants import demo
    from tenants.management.commands import seed_demo

    started = time.perf_counter()
    plan = demo.demo_plan(
        firm_slug="demo",
        client_count=clients,
        rng=random.Random(7),
        today=timezone.localdate(),
    )
    seed_demo._Seeder(plan=plan, cases_per_client=cases, seed=7, hook=seed_cases).create_firm()
    size = -(-len(plan.clients) // max(1, processes))
    chunks = [plan.clients[start : start + size] for start in range(0, len(plan.clients), size)]
    connections.close_all()
    workers = [
        multiprocessing.get_context("fork").Process(
            target=_seed_clients, args=(plan, chunk, cases), kwargs={"first": number == 0}
        )
        for number, chunk in enumerate(chunks)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, "a seeding process failed"
    print(
        f"Seeded {clients:,} client organisations x {cases} cases in "
        f"{time.perf_counter() - started:.0f} s ({processes} processes)",
        flush=True,
    )


# --- 2. the ledger ------------------------------------------------------------------------------


def _release_worker(schemas: list[str]) -> None:
    from django.db import connections

    connections.close_all()
    from reports.tasks import releases_client

    for schema in schemas:
        releases_client.apply(headers={"_schema_name": schema})
    connections.close_all()


def release_all(schemas: list[str], processes: int) -> None:
    """Run the nightly release task for these client schemas, split over `processes`."""
    from django.db import connections

    if processes <= 1 or len(schemas) < 2 * processes:
        _release_worker(schemas)
        return
    connections.close_all()
    workers = [
        multiprocessing.get_context("fork").Process(
            target=_release_worker, args=(schemas[number::processes],)
        )
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, "a release worker failed"


def prove_again(client: object, today: object) -> list[tuple[str, float, float]]:
    """Remove the client's releases and make them again one quarter at a time, each timed;
    beside each, suppressing the same live tables once alone (stock). Returns
    (quarter, ours ms, stock ms) per quarter."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from boardroom import selectors
    from reports import frames as report_frames
    from reports import releases
    from reports.models import FigureRelease
    from reports.periods import Quarter

    due = releases.last_due_quarter(today)  # type: ignore[arg-type]
    quarters = [Quarter(due.year - 1, number) for number in range(1, 5)]
    quarters += [Quarter(due.year, number) for number in range(1, due.number + 1)]
    with connection.cursor() as cursor:
        # The bench database is ours: let the probe prove the same quarters again.
        cursor.execute("ALTER TABLE reports_figurerelease DISABLE TRIGGER USER")
        FigureRelease.objects.filter(client=client).delete()
        cursor.execute("ALTER TABLE reports_figurerelease ENABLE TRIGGER USER")
    timings = []
    with tenant_context(client):
        vocabulary = selectors.vocabulary_current()
        k = selectors.threshold_current()
        for quarter in quarters:
            ours = _timed(
                lambda quarter=quarter: releases.client_release_make(
                    client=client, quarter=quarter, today=today
                )
            )

            def stock(year: int = quarter.year) -> None:
                frames = report_frames.frames_of_year(selectors.case_frames(years=[year]), year)
                report_frames.year_publication(frames, year, vocabulary, k)

            timings.append((quarter.label, ours, _timed(stock)))
    return timings


def copy_releases(templates: list[object], clients: list[object], target: int | None) -> int:
    """Give clients without releases a copy of a really released client's whole set (the same
    years and quarters, size and shape), until the ledger holds `target` (None: every client).
    Returns how many clients got copies."""
    from reports.models import FigureRelease

    sets = [list(FigureRelease.objects.filter(client=template)) for template in templates]
    count = FigureRelease.objects.count()
    made = 0
    batch: list[FigureRelease] = []
    for client in clients:
        if target is not None and count >= target:
            break
        if FigureRelease.objects.filter(client=client).exists():
            continue
        for release in sets[made % len(sets)]:
            batch.append(
                FigureRelease(
                    scope=release.scope,
                    firm_id=release.firm_id,
                    client=client,
                    year=release.year,
                    quarter=release.quarter,
                    k=release.k,
                    truth=release.truth,
                    published=release.published,
                )
            )
        count += len(sets[made % len(sets)])
        made += 1
        if len(batch) >= 2000:
            FigureRelease.objects.bulk_create(batch)
            batch = []
    FigureRelease.objects.bulk_create(batch)
    return made


def build_ledger(
    probe: object,
    template: object,
    sampled: list[object],
    rest: list[object],
    processes: int,
    today: object,
) -> tuple[dict[int, list[tuple[str, float, float]]], float | None]:
    """Release `template` and `sampled` through the nightly task and give `rest` copies; prove
    the probe's releases again at each ledger size. Returns the proofs per ledger size and the
    seconds the nightly task took per client."""
    from reports.models import FigureRelease

    proofs: dict[int, list[tuple[str, float, float]]] = {}

    def prove() -> None:
        size = FigureRelease.objects.exclude(client=probe).count()
        if size not in proofs:
            proofs[size] = prove_again(probe, today)
            print(f"  proved the probe with {size:,} releases in the ledger", flush=True)

    started = time.perf_counter()
    release_all([template.schema_name], 1)  # type: ignore[attr-defined]
    prove()
    for target in LEDGER_SIZES[1:]:
        if FigureRelease.objects.count() < target:
            copy_releases([template], rest, target)
            prove()
    begun = time.perf_counter()
    before = FigureRelease.objects.count()
    release_all([client.schema_name for client in sampled], processes)  # type: ignore[attr-defined]
    # None: a reused ledger had them all (nothing was released, nothing to time).
    per_client = (
        (time.perf_counter() - begun) / max(1, len(sampled))
        if FigureRelease.objects.count() > before
        else None
    )
    copied = copy_releases([template, *sampled], rest, None)
    print(
        f"  released {len(sampled) + 1} clients through the nightly task, copies for {copied} "
        f"more ({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    prove()
    return proofs, per_client


def analyze_public() -> None:
    """Planner statistics for the public tables, as autovacuum keeps them in production: after
    bulk inserts the planner took the firm's 1,000 clients for 2 and counted the open cases per
    adviser with a nested loop (50 ms instead of 25)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'ANALYZE public."{table}"')


# --- 3. requests --------------------------------------------------------------------------------


def measure_dashboards(clients: list[object], timings: Timings) -> None:
    from django.core.cache import cache
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from boardroom import selectors
    from reports import frames as report_frames
    from reports.periods import period_parse
    from tenants.models import ClientMembership

    cache.clear()
    period = period_parse(None, None, today=timezone.localdate())
    years = sorted({*period.a_year_earlier().years, *period.years})
    for client in clients:
        contact = (
            ClientMembership.objects.filter(
                client=client, role=ClientMembership.Role.CONTACT_PERSON
            )
            .select_related("user")
            .first()
        )
        assert contact is not None
        host = client.domains.get(is_primary=True).domain  # type: ignore[attr-defined]
        browser = signed_in(host, contact.user)
        timings.get("dashboard /board/, first", browser, "/board/")
        timings.get("dashboard JSON, first", browser, "/board/data.json")
        for _ in range(3):
            timings.get("dashboard /board/, warm", browser, "/board/")
            timings.get("dashboard JSON, warm", browser, "/board/data.json")
        with tenant_context(client):
            vocabulary = selectors.vocabulary_current()
            k = selectors.threshold_current()

            def live(vocabulary: object = vocabulary, k: int = k) -> None:
                frames = selectors.case_frames(years=years)
                for year in years:
                    report_frames.year_publication(
                        report_frames.frames_of_year(frames, year),
                        year,
                        vocabulary,  # type: ignore[arg-type]
                        k,
                    )

            timings.call("stock: live suppression of the same years", live)


def measure_portfolio(samples: int, timings: Timings) -> None:
    from django.conf import settings
    from django.core.cache import cache
    from django.utils import timezone

    from accounts.models import User
    from reports.periods import period_parse
    from reports.portfolio import portfolio_tables, rollup_sums
    from reports.releases import last_due_quarter
    from reports.suppression import suppress
    from tenants.models import ClientOrganisation, Firm, FirmMembership

    firm = Firm.objects.get(slug="demo")
    admin = User.objects.get(
        pk=FirmMembership.objects.filter(
            firm=firm, role=FirmMembership.Role.FIRM_ADMIN
        ).values_list("user", flat=True)[0]
    )
    console = signed_in(settings.BASE_DOMAIN, admin)
    console.get("/console/")  # the process's first request on this host (imports, templates)
    cache.clear()
    timings.get("portfolio, first", console, "/console/portfolio/")
    for _ in range(samples):
        timings.get("portfolio, warm", console, "/console/portfolio/")
    due = last_due_quarter(timezone.localdate())
    for back in range(1, 7):
        # Periods the picker offers: one to four quarters, ending in a released one.
        last = due.shifted(-(back // 2))
        first = last.shifted(-(back % 4))
        timings.get(
            "portfolio, first of another period",
            console,
            f"/console/portfolio/?from={first.label}&to={last.label}",
        )

    period = period_parse(None, None, today=timezone.localdate())
    clients = {
        client.pk: client
        for client in ClientOrganisation.objects.filter(
            firm=firm, status=ClientOrganisation.Status.ACTIVE
        ).only("pk", "name", "sector", "employee_count", "schema_name")
    }
    chosen = list(clients)

    def summed() -> object:
        return rollup_sums(client_ids=chosen, period=period)

    def suppressed() -> None:
        tables, links = portfolio_tables(
            summed(),  # type: ignore[arg-type]
            clients=clients,
            open_cases={},
            minutes={},
            all_clients=True,
        )
        suppress(tables, k=firm.anonymity_threshold, links=links)

    for _ in range(5):
        timings.call("stock: rollups summed (no suppression)", summed)
    for _ in range(3):
        timings.call("stock: rollups summed + suppressed", suppressed)


def run(args: object, *, reused: bool) -> bool:
    from django.utils import timezone

    from reports.models import FigureRelease
    from tenants.models import ClientOrganisation

    if not reused:
        print(f"Set up {args.database} and the template in {template_ready():.1f} s", flush=True)  # type: ignore[attr-defined]
        seed(args.clients, args.cases_per_client, args.processes)  # type: ignore[attr-defined]
    today = timezone.localdate()
    organisations = list(
        ClientOrganisation.objects.filter(firm__slug="demo", status="active").order_by("pk")
    )
    probe, template = organisations[0], organisations[1]
    # The dashboards measured are those of clients released through the nightly task, spread
    # over the firm; the others get copies of their releases.
    others = organisations[2:]
    step = max(1, len(others) // max(1, args.samples))  # type: ignore[attr-defined]
    sampled = others[::step][: args.samples]  # type: ignore[attr-defined]
    chosen = {client.pk for client in sampled}
    rest = [client for client in others if client.pk not in chosen]
    cases = args.cases_per_client  # type: ignore[attr-defined]
    print(f"\nReleasing (nightly task, {args.processes} processes), load {load_average()}")  # type: ignore[attr-defined]
    started = time.perf_counter()
    proofs, per_client = build_ledger(probe, template, sampled, rest, args.processes, today)  # type: ignore[attr-defined]
    ledger_seconds = time.perf_counter() - started
    ledger = FigureRelease.objects.count()
    analyze_public()

    timings = Timings()
    measure_dashboards(sampled, timings)
    measure_portfolio(args.samples, timings)  # type: ignore[attr-defined]
    results = timings.wall

    print()
    print(
        f"Released figures at {len(organisations):,} clients x {cases} cases, "
        f"{ledger:,} releases in the ledger (load average {load_average()}; "
        "the machine is shared, so absolute times are pessimistic)"
    )
    print(f"\nProving one release against the ledger (ms; {probe.name}, pk {probe.pk})")
    quarters = [label for label, _ours, _stock in next(iter(proofs.values()))]
    print(f"  {'earlier releases':>17}  " + "  ".join(f"{label:>8}" for label in quarters))
    for size, proof in proofs.items():
        print(f"  {size:>17,}  " + "  ".join(f"{ours:8.0f}" for _label, ours, _s in proof))
    stock_row = next(iter(proofs.values()))
    print(
        f"  {'stock (live, alone)':>17}  "
        + "  ".join(f"{stock:8.0f}" for _label, _ours, stock in stock_row)
    )
    all_ours = [ours for proof in proofs.values() for _label, ours, _s in proof]
    all_stock = [stock for proof in proofs.values() for _label, _o, stock in proof]
    print(
        f"  release/stock (medians over all): "
        f"{statistics.median(all_ours) / statistics.median(all_stock):.1f}x"
    )
    if per_client is None:
        print("  the nightly release task: nothing left to release (a reused ledger)")
    else:
        print(
            f"  the nightly release task: {per_client:.1f} s per client over "
            f"{args.processes} processes ({len(sampled)} clients; the ledger, copies "  # type: ignore[attr-defined]
            f"included, in {ledger_seconds:.0f} s)"
        )

    print(f"\nRequests, ms ({args.samples} clients; warm: 3 requests each)")  # type: ignore[attr-defined]
    print(f"  {'':45} {'n':>4} {'p50':>9} {'p95':>9} {'CPU p50':>9}  goal")
    ok = True
    for name, times in results.items():
        goal = GOALS_MS.get(name)
        verdict = ""
        if goal is not None:
            met = p95(times) < goal
            ok &= met
            verdict = f"p95 < {goal:.0f} {'met' if met else 'MISSED'}"
        print(
            f"  {name:45} {len(times):>4} {statistics.median(times):9.1f} {p95(times):9.1f} "
            f"{statistics.median(timings.cpu[name]):9.1f}  {verdict}"
        )

    def ratio(stock: str, ours: str) -> str:
        return f"{statistics.median(results[stock]) / statistics.median(results[ours]):.1f}x"

    print(
        "  stock/ours (medians): live suppression / dashboard first "
        f"{ratio('stock: live suppression of the same years', 'dashboard /board/, first')}, "
        f"/ dashboard warm "
        f"{ratio('stock: live suppression of the same years', 'dashboard /board/, warm')}; "
        "rollups summed + suppressed / portfolio first "
        f"{ratio('stock: rollups summed + suppressed', 'portfolio, first')}, / portfolio warm "
        f"{ratio('stock: rollups summed + suppressed', 'portfolio, warm')}"
    )
    return ok


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--cases-per-client", type=int, default=200)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--database", default=BENCH_DATABASE)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="take the database a --keep run left (no seeding; releases only what is missing)",
    )
    args = parser.parse_args()
    if (args.keep or args.reuse) and not os.environ.get("MASTER_KEY"):
        # Client data keys are wrapped with the master key: a kept database opens only with it.
        parser.error("--keep and --reuse need SECRET_KEY and MASTER_KEY in the environment")
    if args.reuse:
        _server, bench_url = server_and_url(args.database)
        setup_django(bench_url)
        ok = run(args, reused=True)
        print(f"Kept the database {args.database}.")
        return 0 if ok else 1
    with bench_database(args.database, keep=args.keep, citus=args.citus) as bench_url:
        setup_django(bench_url)
        ok = run(args, reused=False)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
