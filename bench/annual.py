"""Time the annual reports: one report's content and HTML, its PDF, and a firm's batch of drafts.

    .venv/bin/python bench/annual.py [--clients 5] [--batch-clients 300] [--batch-processes 2]
                                     [--keep]

(Split off the old `bench/reports.py`, which now times the released figures: dashboard,
portfolio and proofs.) In a database of its own (`vertrouwd_bench_annual`, on the app's
server: the embedded PostgreSQL under `.data/` when DATABASE_URL is unset), `manage.py
seed_demo` builds firm "demo" with `--clients` client organisations and firm "batch" with
`--batch-clients`, 200 cases each. Then, production settings (DEBUG off, no Redis: locmem cache,
tasks in-process):

* one annual report of last year per demo client: the content and HTML, and the PDF
  (WeasyPrint); the figures come from the releases, made on the way as a reader's request
  would (the first report of a client pays for them: see `bench/reports.py`);
* the batch of all annual reports of firm "batch" (drafts with their PDFs), run as the celery
  tasks would, split over `--batch-processes` processes (a worker with that concurrency).

Goals: one PDF < 3 s; 300 PDFs < 5 minutes on 2 cores. Exits 1 when a goal is missed. Drops
the database at the end unless --keep. No stock approach is timed here: the PDF is the product.
"""

from __future__ import annotations

import multiprocessing
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

BENCH_DATABASE = "vertrouwd_bench_annual"
GOALS_MS = {"one PDF": 3000.0}
GOAL_BATCH_SECONDS = 300.0


def seed(clients: int, cases: int, batch_clients: int) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    for slug, count in (("demo", clients), ("batch", batch_clients)):
        call_command(
            "seed_demo",
            clients=count,
            cases_per_client=cases,
            firm_slug=slug,
            seed=7,
            no_logins=True,
            verbosity=0,
        )
        print(f"  seeded firm {slug}: {count} clients", file=sys.stderr, flush=True)
    print(
        f"Seeded {clients + batch_clients} client organisations x {cases} cases in "
        f"{time.perf_counter() - started:.0f} s"
    )


def _batch_worker(batch_id: int, schemas: list[str]) -> None:
    from django.db import connections

    connections.close_all()
    from reports.tasks import report_batch_draft

    for schema in schemas:
        report_batch_draft.apply(args=[batch_id], headers={"_schema_name": schema})
    connections.close_all()


def run(clients: int, cases: int, batch_clients: int, processes: int) -> bool:
    from django.db import connections
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from boardroom import annual
    from boardroom.models import AnnualReport
    from reports.models import ReportBatch
    from tenants.models import ClientOrganisation, Firm

    print(f"Set up {BENCH_DATABASE} and the template in {template_ready():.1f} s")
    seed(clients, cases, batch_clients)

    results: dict[str, list[float]] = {}
    demo = Firm.objects.get(slug="demo")
    year = timezone.localdate().year - 1
    html_ms, pdf_ms = [], []
    for client in ClientOrganisation.objects.filter(firm=demo).order_by("pk")[:clients]:
        with tenant_context(client):
            report, _created = AnnualReport.objects.get_or_create(year=year)
            annual.content_build(report)  # makes the year's releases, as a first reader would
            begun = time.perf_counter()
            content = annual.content_build(report)
            body = annual.html_render(content, status="draft", published_on=None)
            html_ms.append((time.perf_counter() - begun) * 1000)
            document = annual.document_render(body, title=annual.report_title(content))
            begun = time.perf_counter()
            pdf = annual.pdf_render(document)
            pdf_ms.append((time.perf_counter() - begun) * 1000)
            assert pdf.startswith(b"%PDF")
    results["one annual report, content + HTML"] = html_ms
    results["one PDF"] = pdf_ms

    batch_firm = Firm.objects.get(slug="batch")
    schemas = list(
        ClientOrganisation.objects.filter(firm=batch_firm, status="active")
        .order_by("name", "pk")
        .values_list("schema_name", flat=True)
    )
    batch = ReportBatch.objects.create(
        firm=batch_firm, year=year, total=len(schemas), status="running"
    )
    connections.close_all()
    begun = time.perf_counter()
    workers = [
        multiprocessing.get_context("fork").Process(
            target=_batch_worker, args=(batch.pk, schemas[number::processes])
        )
        for number in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    batch_seconds = time.perf_counter() - begun
    batch.refresh_from_db()

    print()
    print(f"Annual reports, {cases} cases per client, ms (load average {load_average()})")
    print(f"{'':45} {'p50':>9} {'p95':>9}  goal")
    ok = True
    for name, times in results.items():
        goal = GOALS_MS.get(name)
        verdict = ""
        if goal is not None:
            met = p95(times) < goal
            ok &= met
            verdict = f"p95 < {goal:.0f} {'met' if met else 'MISSED'}"
        print(f"{name:45} {statistics.median(times):9.1f} {p95(times):9.1f}  {verdict}")
    # The goal is for 300 drafts; a smaller batch is only checked for failures.
    met = batch.done == len(schemas) and (len(schemas) < 300 or batch_seconds < GOAL_BATCH_SECONDS)
    ok &= met
    goal = f"< {GOAL_BATCH_SECONDS:.0f} s for 300" if len(schemas) >= 300 else "all done"
    print(
        f"{'batch: ' + str(len(schemas)) + ' drafts with PDF, ' + str(processes) + ' processes':45}"
        f" {batch_seconds:9.1f} s total ({batch.done} done, {batch.failed} failed)  "
        f"{goal} {'met' if met else 'MISSED'}"
    )
    return ok


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--cases-per-client", type=int, default=200)
    parser.add_argument("--batch-clients", type=int, default=300)
    parser.add_argument("--batch-processes", type=int, default=2)
    args = parser.parse_args()
    with bench_database(BENCH_DATABASE, keep=args.keep) as bench_url:
        setup_django(bench_url)
        ok = run(
            args.clients,
            args.cases_per_client,
            args.batch_clients,
            args.batch_processes,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
