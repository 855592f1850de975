"""Benchmark: `spapi-lake simulate --days N` — wall time per simulated day, and the createReport calls it made next to
the minimum the calendar windows require.

The minimum is computed here from the calendar alone (not by the planner): for each report type, marketplace and day,
a snapshot needs one request; a report on a growing grid (months, weeks) needs one request for the current period
and, while the previous period can still be restated (its last day within restatement_days + 1 of today), one more;
a report that takes whole periods only needs one request per period as it completes; the first day asks for every
period the look-back reaches. Both counts come from the same run of the simulation's own JSON.

    python bench/simulate.py [--days 30] [--start 2026-11-01]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lake_formation import registry  # noqa: E402
from sandbox.world import World  # noqa: E402


def period(window: str, day: date) -> tuple[date, date]:
    if window == "week":
        sunday = day - timedelta(days=(day.weekday() + 1) % 7)
        return sunday, sunday + timedelta(days=6)
    if window == "month":
        first = day.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return day, day


def minimum_requests(start: date, days: int, lookback: int = 30) -> int:
    world, total = World(7, 1.0), 0
    for source, request in registry.requested_reports():
        markets = sum(len(a.marketplace_ids) for a in world.accounts if a.kind == source.account_kind)
        for number in range(days):
            today = start + timedelta(days=number)
            yesterday = today - timedelta(days=1)
            if request.snapshot:
                total += markets
                continue
            if number == 0:  # every period the look-back reaches
                periods, day = set(), today - timedelta(days=lookback)
                while day <= yesterday:
                    first, last = period(request.window, day)
                    if last <= yesterday or not request.complete_periods_only:
                        periods.add(first)
                    day = last + timedelta(days=1)
                total += markets * len(periods)
                continue
            current = period(request.window, yesterday)
            if request.complete_periods_only:
                total += markets * (current[1] == yesterday)
                continue
            needed = 1  # the current period, one day longer
            previous = period(request.window, current[0] - timedelta(days=1))
            if previous[1] >= today - timedelta(days=request.restatement_days + 1) and request.restatement_days:
                needed += 1  # the previous period, still restated
            total += markets * needed
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 11, 1))
    args = parser.parse_args()
    minimum = minimum_requests(args.start, args.days)  # before the run: from the registry as the run reads it
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "local.cli", "simulate", "--days", str(args.days), "--start",
             args.start.isoformat(), "--out", out, "--json", f"{out}/run.json"],
            check=False, cwd=ROOT,
        )  # fmt: skip
        wall = time.monotonic() - started
        run = json.loads(Path(f"{out}/run.json").read_text())
    days = run["days"]
    made = sum(d["create_report_calls"] for d in days)
    if len(days) != args.days:  # the run stopped early: the minimum of the days it ran
        minimum = minimum_requests(args.start, len(days))
    per_day = sorted(d["ingest_s"] + d["curate_s"] for d in days)[len(days) // 2] if days else 0.0
    differences = sum(d["differences"] for d in days)
    print(f"{len(days)} days in {wall:.0f} s (median {per_day:.0f} s a day); createReport {made}, minimum {minimum}; "
          f"{differences} differences")  # fmt: skip
    print(
        f"RESULT days={len(days)} wall_s={wall:.0f} day_median_s={per_day:.0f} create_report={made} "
        f"create_report_minimum={minimum} ratio={made / minimum if minimum else 0:.2f} differences={differences}"
    )


if __name__ == "__main__":
    main()
