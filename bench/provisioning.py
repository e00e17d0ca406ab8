"""Time the creation of a client organisation with 0, 100 and 1,000 tenants already present.

    .venv/bin/python bench/provisioning.py [--sizes 0,100,1000] [--samples 7] [--stock-samples 3]
                                           [--redis URL] [--keep]

Compares, in one run, three ways of creating a client:

* pool (today's `tenants.services.client_create`): claims a schema cloned in advance
  (`tenants.schema_pool`); the bench refills the pool between samples, untimed, as the refill
  task would in production;
* clone (the same service with an empty pool): clones the template schema;
* stock django-tenants: save the tenant, then `create_schema`, which replays every migration;

With `--redis URL` the tasks a creation schedules on commit (the schema check, the billing
quantity) are queued in Redis as production's request does; without it they run in-process,
inside the timed call. The database is its own (`vertrouwd_bench`) on the same server as the
app: the embedded PostgreSQL under `.data/` when DATABASE_URL is unset, else the server
DATABASE_URL names. The
tenant count grows between levels through the clone path. Prints median and p95 per level and
checks the goals: the pool under 40 ms median at 1,000 tenants (and at 10,000 at most 1.5x its
1,000 figure when both are measured), the clone under 300 ms and at least 10x faster than
stock. Exits 1 when a goal is missed. Drops the bench database at the end unless --keep.
"""

from __future__ import annotations

import os
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

BENCH_DATABASE = "vertrouwd_bench"
GOAL_POOL_MEDIAN_MS = 40.0
GOAL_FLAT_RATIO = 1.5
GOAL_MEDIAN_MS = 300.0
GOAL_SPEEDUP = 10.0
GOAL_TENANTS = 1000


class Bench:
    def __init__(self) -> None:
        from tenants import services
        from tenants.trail import Operator

        self.firm = services.firm_create(actor=Operator("bench"), slug="bench", name="Bench Advies")
        self.counter = 0

    def _next_slug(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def create_ours(self) -> float:
        """Create one client with `client_create`; return wall-clock ms."""
        from tenants import services
        from tenants.trail import Operator

        started = time.perf_counter()
        services.client_create(
            actor=Operator("bench"),
            firm=self.firm,
            slug=self._next_slug("o"),
            name="Ours",
            employee_count=100,
        )
        return (time.perf_counter() - started) * 1000

    def create_pooled(self) -> float:
        """Create one client from the pool (refilled first, untimed); return wall-clock ms."""
        from tenants import schema_pool

        schema_pool.pool_refill(size=1)
        before = ready_schemas()
        wall = self.create_ours()
        if ready_schemas() != before - 1:
            raise SystemExit("The pooled creation did not claim a ready schema.")
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


def ready_schemas() -> int:
    from tenants.models import ReadySchema

    return ReadySchema.objects.count()


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
        pooled: list[float] = []
        cloned: list[float] = []
        stock: list[float] = []
        # Interleaved, so all three see the same catalog size and machine load.
        for index in range(max(samples, stock_samples)):
            if index < samples:
                pooled.append(bench.create_pooled())
                cloned.append(bench.create_ours())
            if index < stock_samples:
                stock.append(bench.create_stock())
        rows.append((level, before, pooled, cloned, stock))

    print()
    print(
        f"Client creation in ms: {samples} samples pool and clone, {stock_samples} stock; p95 by "
        f"nearest rank; {os.cpu_count()} CPUs, load average {load_average()} at the end."
    )
    header = ("tenants", "pool med", "pool p95", "clone med", "clone p95", "stock med")
    print(
        "{:>9} {:>9} {:>9} {:>10} {:>10} {:>10} {:>12} {:>12}".format(
            *header, "clone/pool", "stock/pool"
        )
    )
    for _level, before, pooled, cloned, stock in rows:
        pool_median = statistics.median(pooled)
        clone_median = statistics.median(cloned)
        stock_median = statistics.median(stock) if stock else float("nan")
        print(
            f"{before:>9} {pool_median:>9.1f} {p95(pooled):>9.1f} {clone_median:>10.1f} "
            f"{p95(cloned):>10.1f} {stock_median:>10.1f} {clone_median / pool_median:>11.1f}x "
            f"{stock_median / pool_median:>11.1f}x"
        )

    by_level = {row[0]: row for row in rows}
    if GOAL_TENANTS not in by_level:
        print(f"\nGoals not checked: no level of {GOAL_TENANTS} tenants in --sizes.")
        return True
    _level, before, pooled, cloned, stock = by_level[GOAL_TENANTS]
    pool_median = statistics.median(pooled)
    clone_median = statistics.median(cloned)
    speedup = statistics.median(stock) / clone_median if stock else float("nan")
    met = {
        f"pool median {pool_median:.1f} ms < {GOAL_POOL_MEDIAN_MS:.0f} ms": (
            pool_median < GOAL_POOL_MEDIAN_MS
        ),
        f"clone median {clone_median:.1f} ms < {GOAL_MEDIAN_MS:.0f} ms": (
            clone_median < GOAL_MEDIAN_MS
        ),
        f"clone {speedup:.1f}x >= {GOAL_SPEEDUP:.0f}x faster than stock": speedup >= GOAL_SPEEDUP,
    }
    if 10_000 in by_level:
        flat = statistics.median(by_level[10_000][2]) / pool_median
        met[f"pool at 10,000 is {flat:.2f}x its 1,000 figure <= {GOAL_FLAT_RATIO}x"] = (
            flat <= GOAL_FLAT_RATIO
        )
    print(f"\nGoals at {before} tenants:")
    for goal, ok in met.items():
        print(f"  {goal}: {'met' if ok else 'MISSED'}")
    return all(met.values())


def _flush(url: str) -> None:
    """Empty the bench's own Redis database (the queued tasks nobody consumes)."""
    if url:
        import redis

        redis.Redis.from_url(url).flushdb()


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--sizes", default="0,100,1000", help="tenant counts to measure at")
    parser.add_argument("--samples", type=int, default=7, help="our creations per level")
    parser.add_argument("--stock-samples", type=int, default=3, help="stock creations per level")
    parser.add_argument(
        "--redis",
        default="",
        help="queue the tasks a creation schedules in this Redis (e.g. redis://127.0.0.1:6379/13) "
        "as production does; without it they run inside the timed call",
    )
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",") if size.strip()]
    if options.samples < 1 or options.stock_samples < 0 or any(size < 0 for size in sizes):
        parser.error("samples must be at least 1, stock samples and sizes at least 0")

    # The refill after each creation is a task for a worker in production; here the bench
    # refills itself, untimed (tasks would otherwise run inside the timed call).
    os.environ["SCHEMA_POOL_SIZE"] = "0"
    with bench_database(BENCH_DATABASE, keep=options.keep, citus=options.citus) as bench_url:
        setup_django(bench_url, redis_url=options.redis)
        _flush(options.redis)
        try:
            return 0 if run(sizes, options.samples, options.stock_samples) else 1
        finally:
            _flush(options.redis)


if __name__ == "__main__":
    sys.exit(main())
