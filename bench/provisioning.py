"""Time the creation of a client organisation with 0, 100 and 1,000 tenants already present.

    .venv/bin/python bench/provisioning.py [--sizes 0,100,1000] [--samples 7] [--stock-samples 3]
                                           [--keep]

Compares our way (`tenants.services.client_create`: clone the template schema, ~4 statements)
with stock django-tenants (save the tenant, then `create_schema`, which replays every migration),
in one run, in a database of its own (`vertrouwd_bench`) on the same server as the app: the
embedded PostgreSQL under `.data/` when DATABASE_URL is unset, else the server DATABASE_URL names.
The tenant count grows between levels through our fast path. Prints median and p95 per level and
checks the goal: under 300 ms median at 1,000 tenants, and at least 10x faster than stock.
Exits 1 when the goal is missed. Drops the bench database at the end unless --keep.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from _common import (
    argument_parser,
    bench_database,
    load_average,
    p95,
    setup_django,
    template_ready,
)

from tenants.trail import Operator

BENCH_DATABASE = "vertrouwd_bench"
GOAL_MEDIAN_MS = 300.0
GOAL_SPEEDUP = 10.0
GOAL_TENANTS = 1000


class Bench:
    def __init__(self) -> None:
        from tenants import services

        self.firm = services.firm_create(actor=Operator("bench"), slug="bench", name="Bench Advies")
        self.counter = 0
        self.cpu_ms: list[float] = []

    def _next_slug(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def create_ours(self) -> float:
        """Create one client our way; return wall-clock ms, and note the CPU ms it cost."""
        from django.db import connection

        from tenants import services

        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        cpu_before = time.process_time() * 1000 + backend_cpu_ms(backend)
        started = time.perf_counter()
        services.client_create(
            actor=Operator("bench"),
            firm=self.firm,
            slug=self._next_slug("o"),
            name="Ours",
            employee_count=100,
        )
        wall = (time.perf_counter() - started) * 1000
        if connection.connection.info.backend_pid == backend:
            self.cpu_ms.append(time.process_time() * 1000 + backend_cpu_ms(backend) - cpu_before)
        return wall

    def create_stock(self) -> float:
        """Stock django-tenants: save the tenant, replay the migrations, add the domain."""
        from saas import hosts
        from tenants import provisioning
        from tenants.models import ClientOrganisation, Domain

        slug = self._next_slug("s")
        started = time.perf_counter()
        tenant = ClientOrganisation(
            firm=self.firm,
            slug=slug,
            name="Stock",
            employee_count=100,
            schema_name=provisioning.new_schema_name(),
        )
        # What TenantMixin.save() does when auto_create_schema is on (ours has it off).
        tenant.save()
        tenant.create_schema(check_if_exists=True, verbosity=0)
        Domain.objects.create(
            domain=hosts.client_host(client_slug=slug, firm_slug=self.firm.slug),
            tenant=tenant,
            is_primary=True,
        )
        return (time.perf_counter() - started) * 1000


def backend_cpu_ms(pid: int) -> float:
    """CPU time a local PostgreSQL backend has used (Linux); nan where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def tenant_count() -> int:
    from tenants.models import ClientOrganisation

    return ClientOrganisation.objects.count()


def run(sizes: list[int], samples: int, stock_samples: int) -> bool:
    seconds = template_ready()
    print(
        f"Set up {BENCH_DATABASE} and the template in {seconds:.1f} s "
        f"(load average {load_average()})"
    )

    bench = Bench()
    rows = []
    for level in sorted(sizes):
        growing = time.perf_counter()
        grown = 0
        while tenant_count() < level:
            bench.create_ours()
            grown += 1
            if grown % 100 == 0:
                print(f"  … {tenant_count()} tenants", file=sys.stderr, flush=True)
        if grown:
            print(f"Grew to {level} tenants in {time.perf_counter() - growing:.1f} s")
        before = tenant_count()
        bench.cpu_ms.clear()
        ours: list[float] = []
        stock: list[float] = []
        # Interleaved, so both see the same catalog size and machine load.
        for index in range(max(samples, stock_samples)):
            if index < samples:
                ours.append(bench.create_ours())
            if index < stock_samples:
                stock.append(bench.create_stock())
        rows.append((level, before, ours, stock, list(bench.cpu_ms)))

    print()
    print(
        f"Client creation in ms: {samples} samples ours, {stock_samples} stock; p95 by nearest "
        f"rank; {os.cpu_count()} CPUs, load average {load_average()} at the end."
    )
    print("'ours CPU' is client plus PostgreSQL backend CPU time: roughly the wall time")
    print("on an idle machine (nan where the backend's /proc entry cannot be read).")
    header = ("tenants", "ours median", "ours p95", "ours CPU", "stock median", "stock p95")
    print("{:>9} {:>12} {:>9} {:>9} {:>13} {:>10} {:>11}".format(*header, "stock/ours"))
    for _level, before, ours, stock, cpu in rows:
        ours_median = statistics.median(ours)
        stock_median = statistics.median(stock) if stock else float("nan")
        cpu_median = statistics.median(cpu) if cpu else float("nan")
        print(
            f"{before:>9} {ours_median:>12.1f} {p95(ours):>9.1f} {cpu_median:>9.1f} "
            f"{stock_median:>13.1f} {(p95(stock) if stock else float('nan')):>10.1f} "
            f"{stock_median / ours_median:>10.1f}x"
        )

    at_goal = [row for row in rows if row[0] == GOAL_TENANTS]
    if not at_goal:
        print(f"\nGoal not checked: no level of {GOAL_TENANTS} tenants in --sizes.")
        return True
    _level, before, ours, stock, _cpu = at_goal[0]
    ours_median = statistics.median(ours)
    speedup = statistics.median(stock) / ours_median if stock else float("nan")
    fast = ours_median < GOAL_MEDIAN_MS
    faster = speedup >= GOAL_SPEEDUP
    print(
        f"\nGoal at {before} tenants: median {ours_median:.1f} ms < {GOAL_MEDIAN_MS:.0f} ms "
        f"{'met' if fast else 'MISSED'}; {speedup:.1f}x >= {GOAL_SPEEDUP:.0f}x faster than stock "
        f"{'met' if faster else 'MISSED'}"
    )
    return fast and faster


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--sizes", default="0,100,1000", help="tenant counts to measure at")
    parser.add_argument("--samples", type=int, default=7, help="our creations per level")
    parser.add_argument("--stock-samples", type=int, default=3, help="stock creations per level")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",") if size.strip()]
    if options.samples < 1 or options.stock_samples < 0 or any(size < 0 for size in sizes):
        parser.error("samples must be at least 1, stock samples and sizes at least 0")

    with bench_database(BENCH_DATABASE, keep=options.keep) as bench_url:
        setup_django(bench_url)
        return 0 if run(sizes, options.samples, options.stock_samples) else 1


if __name__ == "__main__":
    sys.exit(main())
