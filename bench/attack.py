"""Run the release attacker harness longer than CI does and print what it attacked.

    .venv/bin/python bench/attack.py [--examples 40]

The harness is `tests/test_reports_releases.py::
test_two_years_of_a_sector_and_every_view_of_every_audience_pin_no_hidden_cell`: hypothesis
draws two clients of one sector with two years of cases each, releases every quarter with case
changes in between, opens every view of every period the picker offers (each client's dashboard
tables with the year-earlier column, and the portfolio), and gives everything shown to one
integer-programming attacker (HiGHS). CI runs 4 histories; this runs `--examples` (the test
itself asserts that no hidden cell is pinned, so a run that prints its table passed).

The stock approach, suppressing every view on its own, is the attack the issue reported
(1,188 of 1,502 hidden cells pinned from the portfolio alone); it is kept as named regression
tests in the same file, not repeated here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = (
    "tests/test_reports_releases.py::"
    "test_two_years_of_a_sector_and_every_view_of_every_audience_pin_no_hidden_cell"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=40, help="case histories to attack")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "harness.jsonl"
        env = {
            **os.environ,
            # The test runs max(1, SUPPRESSION_EXAMPLES // 10) histories.
            "SUPPRESSION_EXAMPLES": str(args.examples * 10),
            "HARNESS_REPORT": str(report),
        }
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", TEST, "-x"],
            cwd=ROOT,
            env=env,
            check=False,
        )
        seconds = time.perf_counter() - started
        runs = (
            [json.loads(line) for line in report.read_text().splitlines()]
            if report.exists()
            else []
        )
    if result.returncode != 0:
        print("The harness FAILED: a hidden cell was pinned (see the test output above).")
        return result.returncode
    views = sum(run["views"] for run in runs)
    shown = sum(run["shown"] for run in runs)
    attacked = sum(run["attacked"] for run in runs)
    print(f"\nAttacker harness: {len(runs)} histories (hypothesis examples)")
    print(f"  {'views opened':32}{views:>10}")
    print(f"  {'figures shown':32}{shown:>10}")
    print(f"  {'hidden cells attacked':32}{attacked:>10}")
    print(f"  {'hidden cells pinned':32}{0:>10}")
    print(f"  {'seconds':32}{seconds:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
