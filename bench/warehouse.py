"""Benchmark: the warehouse load (glue_jobs/load_warehouse, offline on DuckDB) against DuckDB copying the same curated
Parquet into tables itself, side by side in one run, over the curated zone of a short simulation.

Measured, each `--repeat` times (medians):
- ours, full: the loader into an empty warehouse (every curation run of the simulated days: manifests, COPY, staging,
  MERGE on the key, the deletion pass and the ledger, one transaction per table);
- ours, nothing new: the loader again (reads the ledger and the run reports, changes nothing);
- DuckDB: `CREATE TABLE AS SELECT * FROM read_parquet(<table>/**/*.parquet, hive_partitioning)` per table into an
  empty file (no key, no ledger, no restatement handling: the floor for moving the same rows).

    python bench/warehouse.py [--days 2] [--repeat 3]

Ends with `RESULT full_load_s=… duckdb_copy_s=… ratio=… noop_load_s=… rows=… tables=… statements=…`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import duckdb  # noqa: E402

from glue_jobs.load_warehouse.executors import DuckDBExecutor, read_s3  # noqa: E402
from glue_jobs.load_warehouse.job import LoadConfig, load  # noqa: E402
from lake_formation import registry  # noqa: E402
from lake_formation.render import duckdb_type  # noqa: E402
from local.simulate import Simulation  # noqa: E402


def ours(session: boto3.session.Session, bucket: str, path: Path, load_id: str) -> tuple[float, int]:
    executor = DuckDBExecutor(str(path), session)
    started = time.perf_counter()
    load(session.client("s3"), executor, LoadConfig(bucket, f"duckdb://{path}", "spapi", "none", load_id))
    elapsed = time.perf_counter() - started
    executor.close()
    return elapsed, len(executor.sent)


def duckdb_copy(session: boto3.session.Session, bucket: str, path: Path) -> tuple[float, int]:
    con = duckdb.connect(str(path))
    read_s3(con, session)
    started, rows = time.perf_counter(), 0
    for dataset in registry.load_all().values():
        hive = ", ".join(f"'{c.name}': '{duckdb_type(c.type)}'" for c in dataset.partition_columns)
        source = (f"read_parquet('s3://{bucket}/{dataset.table}/**/*.parquet', hive_partitioning = true, "
                  f"hive_types = {{{hive}}})")  # fmt: skip
        con.execute(f"CREATE TABLE {dataset.table} AS SELECT * FROM {source}")
        rows += con.execute(f"SELECT count(*) FROM {dataset.table}").fetchone()[0]  # type: ignore[index]
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed, rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    simulation = Simulation(start=date.today() - timedelta(days=args.days))
    with simulation, tempfile.TemporaryDirectory() as work:
        for number in range(args.days):
            simulation.run_day(simulation.day(number))
        assert simulation.stack.resources is not None  # noqa: S101
        bucket, session = simulation.stack.resources.curated_bucket, boto3.session.Session()
        full, noop, copy, statements, rows = [], [], [], 0, 0
        for n in range(args.repeat):
            target = Path(work) / f"ours-{n}.duckdb"
            seconds, statements = ours(session, bucket, target, f"bench-{n}")
            full.append(seconds)
            noop.append(ours(session, bucket, target, f"bench-{n}-again")[0])
            seconds, rows = duckdb_copy(session, bucket, Path(work) / f"duckdb-{n}.duckdb")
            copy.append(seconds)
            print(f"run {n + 1}: ours full {full[-1]:.2f} s ({statements} statements), nothing new {noop[-1]:.2f} s, "
                  f"DuckDB copy {copy[-1]:.2f} s ({rows} rows)", flush=True)  # fmt: skip
    full_s, copy_s, noop_s = statistics.median(full), statistics.median(copy), statistics.median(noop)
    print(
        f"RESULT full_load_s={full_s:.2f} duckdb_copy_s={copy_s:.2f} ratio={full_s / copy_s:.1f} "
        f"noop_load_s={noop_s:.2f} rows={rows} tables={len(registry.load_all())} statements={statements}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
