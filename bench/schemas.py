"""One server with many client schemas: catalog, creation, requests and backend memory by level.

    .venv/bin/python bench/schemas.py [--sizes 1000,5000,10000] [--processes 2] [--samples 7]
                                      [--touch 1,10,100,1000] [--redis URL] [--migrate] [--keep]

In a database of its own (`vertrouwd_bench_schemas`, on the server DATABASE_URL names or the
embedded one), grows the number of client schemas level by level with `client_create` (the
clone path, in --processes processes) and at each level measures, in one process:

* the catalog: `pg_class` and `pg_attribute` rows, the size of the system catalog and of the
  database;
* creating one more client: from the pool of ready schemas (refilled between samples, untimed)
  and by cloning the template, median and p95 of --samples each, interleaved;
* a request (an adviser's case list, through routing and the middleware, in this process's
  warm connection) to the first client and to the last one created, median of --samples each;

and at the last level, on a fresh connection, the memory of that one backend
(`pg_backend_memory_contexts`) after it served the case list of 1, 10, 100, 1,000 different
clients (--touch).

With `--redis URL` the tasks a creation schedules on commit are queued in that Redis database
(flushed before and after), as production's request does; without it they run in-process,
inside the timed creation. With `--migrate` every schema also carries the throw-away tenant app
of `bench/migrations.py`, and at each level its second migration (a column, two indexes and a
data migration) is applied to all client schemas by `migrate_tenants --processes P` in a fresh
process, as a deploy would; checked in every schema, then undone with plain SQL (client schemas
and template) so that the next level grows from the same state. Stock `migrate_schemas` at these
sizes takes hours; its ratio at 1,000 is `bench/migrations.py`.

Growing costs about one clone per client (a few hundred milliseconds of server CPU each on
2 cores), so 10,000 takes an hour or more; the table says what each level measured. Prints the
table and drops the database unless --keep.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    argument_parser,
    bench_database,
    load_average,
    p95,
    setup_django,
    signed_in,
    template_ready,
)

BENCH_DATABASE = "vertrouwd_bench_schemas"
FIRM = "benchschemas"


def _grow_one(number: int) -> None:
    from tenants import services
    from tenants.models import Firm
    from tenants.trail import Operator

    services.client_create(
        actor=Operator("bench"),
        firm=Firm.objects.get(slug=FIRM),
        slug=f"c{number}",
        name=f"Client {number}",
        employee_count=50,
    )


def _worker_init() -> None:
    from django.db import connections

    # Forked after Django was set up: never share the parent's connection.
    for connection in connections.all(initialized_only=True):
        connection.inc_thread_sharing()
        connection.close()


def grow(to: int, processes: int) -> float:
    from django.db import connections

    from tenants.models import ClientOrganisation

    have = ClientOrganisation.objects.filter(firm__slug=FIRM).count()
    numbers = range(have + 1, to + 1)
    started = time.perf_counter()
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(processes, initializer=_worker_init) as pool:
        for done, _ in enumerate(pool.imap_unordered(_grow_one, numbers, chunksize=10), 1):
            if done % 250 == 0:
                print(f"  … {have + done} clients", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def catalog() -> dict[str, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_attribute),
                   (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
                    WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relkind = 'r'),
                   pg_database_size(current_database())
            """
        )
        classes, attributes, catalog_bytes, database_bytes = cursor.fetchone()
    return {
        "pg_class": classes,
        "pg_attribute": attributes,
        "catalog_mb": catalog_bytes / 2**20,
        "database_mb": database_bytes / 2**20,
    }


class Measure:
    def __init__(self) -> None:
        from accounts.models import User
        from tenants import services
        from tenants.models import Firm
        from tenants.trail import Operator

        self.firm = Firm.objects.get(slug=FIRM)
        self.adviser = User.objects.filter(email="adviser@benchschemas.test").first()
        if self.adviser is None:
            self.adviser = services.user_create(
                actor=Operator("bench"),
                email="adviser@benchschemas.test",
                full_name="Bench Adviser",
                role="adviser",
                firm=self.firm,
            )
        self.assigned: set[int] = set()
        self.counter = 0

    def create(self, *, pooled: bool) -> float:
        from tenants import schema_pool, services
        from tenants.trail import Operator

        if pooled:
            schema_pool.pool_refill(size=1)
        self.counter += 1
        started = time.perf_counter()
        services.client_create(
            actor=Operator("bench"),
            firm=self.firm,
            slug=f"m{self.counter}",
            name="Measured",
            employee_count=50,
        )
        return (time.perf_counter() - started) * 1000

    def client_hosts(self, numbers: list[int]) -> list[str]:
        """Hosts of the clients c<number>, the adviser assigned to each (once)."""
        from tenants import services
        from tenants.models import ClientOrganisation
        from tenants.trail import Operator

        hosts = []
        for number in numbers:
            client = ClientOrganisation.objects.get(firm=self.firm, slug=f"c{number}")
            if client.pk not in self.assigned:
                services.assignment_create(
                    actor=Operator("bench"), client=client, adviser=self.adviser
                )
                self.assigned.add(client.pk)
            hosts.append(client.domains.get(is_primary=True).domain)
        return hosts

    def request_ms(self, host: str, samples: int) -> float:
        browser = signed_in(host, self.adviser)
        browser.get("/cases/")  # warm: routing cache, templates
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            response = browser.get("/cases/")
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{host}/cases/ answered {response.status_code}")
        return statistics.median(times)


def backend_memory(
    measure: Measure, touch: list[int], clients: int
) -> list[tuple[int, float, float]]:
    """(clients served, CacheMemoryContext MB, backend total MB) on one fresh connection."""
    from django.db import connection

    connection.close()
    rows = []
    served = 0
    numbers = list(range(1, clients + 1))
    for count in sorted(touch):
        if count > clients:
            break
        hosts = measure.client_hosts(numbers[served:count])
        for host in hosts:
            browser = signed_in(host, measure.adviser)
            if browser.get("/cases/").status_code != 200:
                raise SystemExit(f"{host}/cases/ failed")
        served = count
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext'), "
                "sum(total_bytes) FROM pg_backend_memory_contexts"
            )
            cache, total = cursor.fetchone()
        rows.append((count, cache / 2**20, total / 2**20))
    return rows


class Migrations:
    """The `--migrate` part: bench/migrations.py's throw-away app, applied and undone per level."""

    def __init__(self, *, processes: int, bench_url: str) -> None:
        import migrations as bench_migrations

        self.m = bench_migrations
        self.processes = processes
        self.app_dir = Path(tempfile.mkdtemp(prefix="vertrouwd-bench-app-"))
        self.m.write_app(self.app_dir, version=1, processes=processes)
        sys.path.insert(0, str(self.app_dir))
        self.bench_url = bench_url

    def runner(self):  # after Django is set up: the keys are in the environment by then
        return self.m.Bench(
            tenants=0, processes=self.processes, app_dir=self.app_dir, bench_url=self.bench_url
        )

    def at_level(self, level: int) -> float:
        from django.core.cache import cache

        from tenants import migration_runner
        from tenants.models import ClientOrganisation
        from tenants.provisioning import TEMPLATE_SCHEMA

        runner = self.runner()
        self.m.write_app(self.app_dir, version=2, processes=self.processes)
        seconds = runner.run(
            f"ours at {level}", ["migrate_tenants", "--processes", str(self.processes)]
        )
        runner.check_migrated(f"ours at {level}")
        runner.reset()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                f'ALTER TABLE "{TEMPLATE_SCHEMA}".{self.m.APP}_note DROP COLUMN title_key'
            )
            cursor.execute(
                f'DELETE FROM "{TEMPLATE_SCHEMA}".django_migrations '  # noqa: S608 (fixed names)
                f"WHERE app = '{self.m.APP}' AND name = '{self.m.NEW_MIGRATION}'"
            )
        self.m.write_app(self.app_dir, version=1, processes=self.processes)
        # Back at the state this process's code expects: record it, and forget cached routes.
        ClientOrganisation.objects.update(
            schema_fingerprint=migration_runner.expected_fingerprint()
        )
        cache.clear()
        return seconds

    def close(self) -> None:
        shutil.rmtree(self.app_dir, ignore_errors=True)


def _flush(redis_url: str) -> None:
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()


def main() -> int:
    parser = argument_parser(__doc__, BENCH_DATABASE)
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--touch", default="1,10,100,1000")
    parser.add_argument(
        "--redis",
        default="",
        metavar="URL",
        help="queue the tasks creations schedule in this Redis database (it is flushed), "
        "e.g. redis://127.0.0.1:6379/13",
    )
    parser.add_argument(
        "--migrate", action="store_true", help="also time migrate_tenants at each level"
    )
    options = parser.parse_args()
    sizes = sorted(int(size) for size in options.sizes.split(",") if size.strip())
    touch = [int(count) for count in options.touch.split(",") if count.strip()]
    if not sizes or sizes[0] < 1 or options.samples < 1 or not 1 <= options.processes <= 16:
        parser.error("sizes at least 1, samples at least 1, processes 1..16")

    # The refill after each creation is a worker's task in production; not timed here.
    os.environ["SCHEMA_POOL_SIZE"] = "0"
    with bench_database(BENCH_DATABASE, keep=options.keep, citus=options.citus) as bench_url:
        migrations = (
            Migrations(processes=options.processes, bench_url=bench_url)
            if options.migrate
            else None
        )
        try:
            rows, memory = measure_levels(options, sizes, touch, bench_url, migrations)
        finally:
            if migrations is not None:
                migrations.close()
            _flush(options.redis)
        # Before the database is dropped: dropping 10,000 schemas took over 20 minutes with
        # fsync on, and a run cut off meanwhile would have printed nothing.
        report(options, sizes, rows, memory)
    return 0


def measure_levels(
    options, sizes: list[int], touch: list[int], bench_url: str, migrations: Migrations | None
) -> tuple[list[dict], list[tuple[int, float, float]]]:
    setup_django(
        bench_url,
        redis_url=options.redis,
        settings_module="bench_settings" if migrations else "saas.settings",
    )
    _flush(options.redis)
    from tenants import services
    from tenants.trail import Operator

    print(f"Public schema and template in {template_ready():.1f} s (load {load_average()})")
    services.firm_create(actor=Operator("bench"), slug=FIRM, name="Bench Schemas")
    measure = Measure()
    rows = []
    for level in sizes:
        seconds = grow(level, options.processes)
        print(f"Grew to {level} clients in {seconds:.0f} s (load {load_average()})", flush=True)
        first, last = measure.client_hosts([1, level])
        pooled, cloned = [], []
        for _ in range(options.samples):
            pooled.append(measure.create(pooled=True))
            cloned.append(measure.create(pooled=False))
        row = {
            "level": level,
            "grow_s": seconds,
            **catalog(),
            "pool": (statistics.median(pooled), p95(pooled)),
            "clone": (statistics.median(cloned), p95(cloned)),
            "first_ms": measure.request_ms(first, options.samples),
            "last_ms": measure.request_ms(last, options.samples),
        }
        if migrations is not None:
            row["migrate_s"] = migrations.at_level(level)
        rows.append(row)
        print(f"  measured at {level} (load {load_average()})", flush=True)
    return rows, backend_memory(measure, touch, sizes[-1])


def report(options, sizes: list[int], rows: list[dict], memory) -> None:
    print()
    print(
        f"{os.cpu_count()} CPUs, load average {load_average()} at the end; times in ms "
        f"(median, p95 by nearest rank, {options.samples} samples)"
        + (", tasks queued in Redis" if options.redis else ", tasks run in-process")
        + "."
    )
    header = "{:>8} {:>9} {:>11} {:>10} {:>10} {:>9} {:>9} {:>10} {:>9} {:>10} {:>10}"
    print(
        header.format(
            "clients",
            "pg_class",
            "pg_attribute",
            "catalog MB",
            "db MB",
            "pool med",
            "pool p95",
            "clone med",
            "clone p95",
            "1st client",
            "last client",
        )
    )
    for row in rows:
        print(
            f"{row['level']:>8} {row['pg_class']:>9} {row['pg_attribute']:>11} "
            f"{row['catalog_mb']:>10.0f} {row['database_mb']:>10.0f} {row['pool'][0]:>9.1f} "
            f"{row['pool'][1]:>9.1f} {row['clone'][0]:>10.1f} {row['clone'][1]:>9.1f} "
            f"{row['first_ms']:>10.1f} {row['last_ms']:>10.1f}"
        )
    print(
        "\nclone/pool per level: "
        + ", ".join(f"{row['level']}: {row['clone'][0] / row['pool'][0]:.1f}x" for row in rows)
    )
    base = rows[0]
    print(
        f"pool at each level / pool at {base['level']}: "
        + ", ".join(f"{row['level']}: {row['pool'][0] / base['pool'][0]:.2f}x" for row in rows)
    )
    print(
        "growing (clone path, all processes): "
        + ", ".join(f"to {row['level']}: {row['grow_s']:.0f} s" for row in rows)
    )
    if "migrate_s" in base:
        print(
            f"\nmigrate_tenants --processes {options.processes}, one migration (column, 2 indexes, "
            "data) on every client schema:"
        )
        print(f"{'clients':>8} {'seconds':>9} {'ms/schema':>10}")
        for row in rows:
            schemas = row["level"] + 2 * options.samples * (rows.index(row) + 1)
            print(
                f"{row['level']:>8} {row['migrate_s']:>9.1f} {1000 * row['migrate_s'] / schemas:>10.1f}"
            )
    print(f"\nOne backend's memory after serving N different clients (at {sizes[-1]} clients):")
    print(f"{'clients served':>15} {'CacheMemoryContext MB':>22} {'backend total MB':>17}")
    for count, cache, total in memory:
        print(f"{count:>15} {cache:>22.1f} {total:>17.1f}")


if __name__ == "__main__":
    sys.exit(main())
