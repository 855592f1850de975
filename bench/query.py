"""Benchmark: `spapi-lake query` answering each insight view on a lake the demo or `simulate` left, as the analyst
(Lake Formation's grants applied, Athena SQL transpiled by sqlglot), next to DuckDB running the same view's
already-transpiled SQL straight on the file with every column (no grants, no transpiling): the cost of governance.

    python bench/query.py [--lake out/spapi_lake.duckdb] [--runs 7]

Without a lake at --lake it first leaves one with `spapi-lake simulate --days 1`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lake_formation import views  # noqa: E402
from local.governed import offline_session  # noqa: E402


def median_s(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lake", type=Path, default=ROOT / "out" / "spapi_lake.duckdb")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    lake = args.lake
    if not lake.is_file():
        out = Path(tempfile.mkdtemp())
        subprocess.run([sys.executable, "-m", "local.cli", "simulate", "--days", "1", "--out", str(out)],  # noqa: S603
                       check=True, cwd=ROOT, capture_output=True)  # fmt: skip
        lake = out / "spapi_lake.duckdb"
    plain = duckdb.connect(str(lake), read_only=True)
    for view in views.in_dependency_order():  # the baseline: the views as plain DuckDB views, all columns
        plain.sql(f'CREATE TEMP VIEW "{view.name}" AS {view.duckdb_sql}')
    ours, baseline = [], []
    for view in views.in_dependency_order():
        sql = f"SELECT * FROM {view.name}"
        ours.append(median_s(lambda sql=sql: offline_session(lake, "analyst").query(sql).fetchall(), args.runs))
        baseline.append(median_s(lambda sql=sql: plain.sql(sql).fetchall(), args.runs))
        print(f"{view.name:20} spapi-lake query {ours[-1] * 1000:7.1f} ms   duckdb {baseline[-1] * 1000:7.1f} ms")
    command = [sys.executable, "-m", "local.cli", "query", "--lake", str(lake), "SELECT * FROM daily_sales"]
    cli = median_s(lambda: subprocess.run(command, check=True, cwd=ROOT, capture_output=True), 3)  # noqa: S603
    worst = max(ours)
    print(f"the command, a whole process (Python start, imports, grants, view, print): {cli:.2f} s")
    print(f"RESULT views={len(ours)} query_median_ms={statistics.median(ours) * 1000:.0f} "
          f"query_worst_ms={worst * 1000:.0f} duckdb_median_ms={statistics.median(baseline) * 1000:.0f} "
          f"ratio={statistics.median(ours) / statistics.median(baseline):.1f} cli_s={cli:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
