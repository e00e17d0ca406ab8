"""Time the release ledger: proving a release as the ledger grows, the dashboard's figures from
the ledger against suppressing live per request (the stock way), and what it costs in cells.

    .venv/bin/python bench/releases.py [--clients 8] [--cases-per-client 120] [--samples 20]
                                       [--keep]

In a database of its own (`vertrouwd_bench_releases`), `seed_demo` builds `--clients` clients
with their cases over several years. Then, in one run:

* proving one client release (the year so far, suppressed with the earlier releases of the
  year fixed) with 10, 100 and 1,000 earlier releases of other clients in the ledger: the proof
  reads only its own year, so the cost should stay flat;
* a year's figures for the dashboard: read from the ledger (ours) against suppressing the
  year's live counts on every request (stock), p50/p95 and the ratio;
* utility on the demo data: cells a contact person sees in the default dashboard period, the
  stock way (live, per request, leaking over time) against the ledger (the running quarter is
  pending there, so part of the difference is simply "not released yet").
"""

from __future__ import annotations

import statistics
import sys
import time

from _common import (
    argument_parser,
    bench_database,
    load_average,
    p95,
    setup_django,
    template_ready,
)

BENCH_DATABASE = "vertrouwd_bench_releases"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def shown_cells(publications, period) -> tuple[int, int]:
    """(shown, all) cells of the dashboard's tables for the period and a year earlier."""
    from boardroom.dashboard import DIMENSION_TABLES
    from reports import frames as report_frames
    from reports.suppression import Status

    shown = total = 0
    for key in DIMENSION_TABLES:
        table = report_frames.period_table(publications, key, period)
        statuses = table.status.to_numpy().ravel()
        shown += int((statuses == Status.SHOWN).sum())
        total += int(statuses.size)
    return shown, total


def run(clients: int, cases: int, samples: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from boardroom import selectors
    from reports import frames as report_frames
    from reports import releases
    from reports.models import FigureRelease
    from reports.periods import Period, Quarter, period_parse
    from tenants.models import ClientOrganisation

    print(f"Set up {BENCH_DATABASE} and the template in {template_ready():.1f} s")
    started = time.perf_counter()
    call_command("seed_demo", clients=clients, cases_per_client=cases, seed=7, verbosity=0)
    print(f"Seeded {clients} clients x {cases} cases in {time.perf_counter() - started:.0f} s")
    today = timezone.localdate()
    due = releases.last_due_quarter(today)
    organisations = list(ClientOrganisation.objects.filter(status="active").order_by("pk"))
    first, others = organisations[0], organisations[1:]

    # 1. Proof cost as the ledger grows: fill it with other clients' releases first.
    print(f"\nLoad average {load_average()}; today {today}, newest released quarter {due}")
    print("\nProving one release (the year up to the quarter) against the ledger")
    print(f"  {'earlier releases':>17}  {'Q1 ms':>8}  {'Q2 ms':>8}  {'Q3 ms':>8}  {'Q4 ms':>8}")
    year = due.year - 1
    with tenant_context(others[0]):
        model = releases.client_release_make(
            client=others[0], quarter=Quarter(year, 4), today=today
        )
    for size in (10, 100, 1000):
        # Fill the ledger with copies of a real release (other clients, years long gone).
        missing = size - FigureRelease.objects.count()
        start = FigureRelease.objects.count()
        FigureRelease.objects.bulk_create(
            [
                FigureRelease(
                    scope=model.scope,
                    firm_id=model.firm_id,
                    client=others[(start + i) % len(others)],
                    year=1000 + (start + i) // (4 * len(others)),
                    quarter=1 + (start + i) // len(others) % 4,
                    k=model.k,
                    truth=model.truth,
                    published=model.published,
                )
                for i in range(max(0, missing))
            ],
            ignore_conflicts=True,
        )
        times = []
        with tenant_context(first):
            for number in range(1, 5):
                began = time.perf_counter()
                made = releases.client_release_make(
                    client=first, quarter=Quarter(year, number), today=today
                )
                times.append(_ms(began))
                assert made is not None
        count = FigureRelease.objects.count()
        with connection.cursor() as cursor:
            # The bench database is ours: let the next size prove the same year again.
            cursor.execute("ALTER TABLE reports_figurerelease DISABLE TRIGGER USER")
            FigureRelease.objects.filter(client=first, year=year).delete()
            cursor.execute("ALTER TABLE reports_figurerelease ENABLE TRIGGER USER")
        print(f"  {count:>17}  " + "  ".join(f"{ms:8.1f}" for ms in times))

    # 2. The year's figures: from the ledger against live suppression per request.
    period = period_parse(None, None, today=today)  # the released year to date
    four = Period(due.shifted(-3), due)  # the default before year-to-date cells were released
    years = sorted(
        {*period.a_year_earlier().years, *period.years, *four.a_year_earlier().years, *four.years}
    )
    ours: list[float] = []
    stock: list[float] = []
    utility = {"stock": [0, 0], "stock-ytd": [0, 0], "ours-four": [0, 0], "ours": [0, 0]}
    for client in organisations:
        with tenant_context(client):
            selectors.year_publications(years, today=today)  # makes the releases once
            for _ in range(samples):
                began = time.perf_counter()
                published = selectors.year_publications(years, today=today)
                ours.append(_ms(began))
                began = time.perf_counter()
                frames = selectors.case_frames(years=years)
                vocabulary = selectors.vocabulary_current()
                k = selectors.threshold_current()
                live = {
                    y: report_frames.year_publication(
                        report_frames.frames_of_year(frames, y), y, vocabulary, k
                    )
                    for y in years
                }
                stock.append(_ms(began))
            live_period = period_parse(
                Quarter.of(today).shifted(-3).label, Quarter.of(today).label, today=today
            )
            live_years = sorted({*live_period.a_year_earlier().years, *live_period.years})
            frames = selectors.case_frames(years=sorted({*live_years, *years}))
            live = {
                y: report_frames.year_publication(
                    report_frames.frames_of_year(frames, y),
                    y,
                    selectors.vocabulary_current(),
                    selectors.threshold_current(),
                )
                for y in live_years
            }
            live_ytd = {
                y: report_frames.year_publication(
                    report_frames.frames_of_year(frames, y),
                    y,
                    selectors.vocabulary_current(),
                    selectors.threshold_current(),
                )
                for y in years
                if y not in live
            } | live
            for name, pubs, chosen in (
                ("stock", live, live_period),
                ("stock-ytd", live_ytd, period),
                ("ours-four", published, four),
                ("ours", published, period),
            ):
                shown, total = shown_cells(pubs, chosen)
                utility[name][0] += shown
                utility[name][1] += total
    print("\nA year's figures for the dashboard (ms per request, over clients)")
    print(f"  {'':28}{'p50':>8}{'p95':>8}")
    print(f"  {'ledger (ours)':28}{statistics.median(ours):8.1f}{p95(ours):8.1f}")
    print(f"  {'live suppression (stock)':28}{statistics.median(stock):8.1f}{p95(stock):8.1f}")
    print(f"  stock/ours (medians): {statistics.median(stock) / statistics.median(ours):.1f}x")
    print("\nCells a contact person sees in the default period (all demo clients)")
    for name, label in (
        ("stock", "live, last four quarters to today"),
        ("stock-ytd", f"live, {period.label}"),
        ("ours-four", f"released, {four.label}"),
        ("ours", f"released, {period.label} (default)"),
    ):
        shown, total = utility[name]
        print(f"  {label:40} {shown:5} of {total:5} shown ({100 * shown / max(total, 1):.0f}%)")


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--cases-per-client", type=int, default=120)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    with bench_database(BENCH_DATABASE, keep=args.keep) as bench_url:
        setup_django(bench_url)
        run(args.clients, args.cases_per_client, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
