"""Correct day after day: `spapi-lake simulate` from the deployed stacks, clean and under faults.

Each run is the command a user runs, in a process of its own (moto's backends are global to a process). After every
simulated day the command compares every checked dataset with the sandbox's ground truth; here the test reads its
JSON, and compares the two runs' curated tables itself, table by table and partition by partition, from the DuckDB
files they leave (lineage columns aside: report ids and ingestion times differ when a report is requested again).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from lake_formation import registry, views

DAYS = int(os.environ.get("SIMULATION_DAYS", "2"))  # the acceptance run, 7 days each: make acceptance
START = "2026-11-30"  # the runs cross a month's end: November's windows complete, December's start
FAULTS = ("throttle=0.12,server_error=0.08,timeout=0.02,truncated_document=0.03,corrupt_document=0.02,"
          "duplicate_notification=0.1,drop_notification=0.1,delay_notification=0.1,token_expiry=0.2,"
          "glue_crash,landing_crash,load_crash")  # fmt: skip


def start_simulation(out: Path, faults: str = "") -> subprocess.Popen:
    command = [sys.executable, "-m", "local.cli", "simulate", "--days", str(DAYS), "--start", START, "--seed", "7",
               "--out", str(out), "--json", str(out / "run.json")]  # fmt: skip
    if faults:
        command += ["--faults", faults]
    log = (out / "output.txt").open("w")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, env=_env())  # noqa: S603


def finished(process: subprocess.Popen, out: Path) -> dict:
    returncode = process.wait(timeout=3600)
    output = (out / "output.txt").read_text()
    assert (out / "run.json").exists(), output[-3000:]
    return {"returncode": returncode, "output": output, **json.loads((out / "run.json").read_text())}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT", "SPAPI_ENDPOINT", "LWA_ENDPOINT"):
        env.pop(name, None)  # each simulation starts its own world
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    # The two runs at once, each in its own process (and world): they wait on the sandbox's report processing and
    # on each other's Spark in turns.
    outs = {"clean": tmp_path_factory.mktemp("clean"), "faults": tmp_path_factory.mktemp("faults")}
    processes = {"clean": start_simulation(outs["clean"]), "faults": start_simulation(outs["faults"], FAULTS)}
    return {kind: finished(process, outs[kind]) for kind, process in processes.items()}


# An order line changed on the lake's newest day may be in a run's last report or only in the next day's: Amazon
# reports each line as it stands when it makes the report, and a faulty run makes its reports later in the day (the
# daily checks count such lines as in flight). The two runs' tables are compared without them.
EDGE = (date.fromisoformat(START) + timedelta(days=DAYS - 2)).isoformat()


def edge_keys(databases: list[Path]) -> dict[str, set[tuple]]:
    """Per dataset with a line's last change, the keys of lines that changed on or after EDGE in any run."""
    keys: dict[str, set[tuple]] = {}
    for database in databases:
        con = duckdb.connect(str(database), read_only=True)
        for name, dataset in registry.load_all().items():
            if "last_updated_date" not in {c.name for c in dataset.columns}:
                continue
            key = ", ".join(dataset.dedupe_key)
            sql = f"SELECT {key} FROM \"{name}\" WHERE last_updated_date >= TIMESTAMP '{EDGE}'"
            try:
                keys.setdefault(name, set()).update(con.sql(sql).fetchall())
            except duckdb.CatalogException:
                continue
        con.close()
    return keys


def content_hashes(database: Path, edge: dict[str, set[tuple]] | None = None) -> dict[tuple[str, str], str]:
    """sha256 of each table partition's rows (sorted, lineage columns left out) in a DuckDB file; `edge`: keys of
    lines left out."""
    con, hashes = duckdb.connect(str(database), read_only=True), {}
    for name, dataset in registry.load_all().items():
        lineage = {c.name for c in dataset.columns if c.origin in ("object_id", "ingested_at")}
        lineage |= {"fetched_at"}  # when the catalog/listings fetch ran: its ingestion time, like ingested_at
        columns = [c.name for c in dataset.columns if c.name not in lineage]
        try:
            rows = con.sql(f'SELECT {", ".join(columns)} FROM "{name}" ORDER BY ALL').fetchall()
        except duckdb.CatalogException:
            continue
        left_out = (edge or {}).get(name, set())
        if left_out:
            positions = [columns.index(column) for column in dataset.dedupe_key]
            rows = [row for row in rows if tuple(row[i] for i in positions) not in left_out]
        part = columns.index(dataset.partitions[1])
        by_partition: dict[str, list] = {}
        for row in rows:
            by_partition.setdefault(f"{row[columns.index('marketplace_id')]}/{row[part]}", []).append(row)
        for partition, items in by_partition.items():
            hashes[(name, partition)] = hashlib.sha256(repr(items).encode()).hexdigest()
    con.close()
    return hashes


pytestmark = pytest.mark.timeout(5400)  # the two simulations run in the first test's fixture


@pytest.mark.parametrize("kind", ["clean", "faults"])
def test_every_day_every_checked_dataset_equals_the_ground_truth(runs, kind):
    run = runs[kind]
    assert len(run["days"]) == DAYS, run["output"][-3000:]
    for day in run["days"]:
        assert day["differences"] == 0, (day["day"], {k: v["differences"] for k, v in day["checks"].items()})
        assert day["ledger"]["pending"] == 0
        assert {"orders", "order_updates", "units_per_asin", "sales_and_traffic_by_date", "settlements",
                "fba_inventory", "vendor_sales"} <= set(day["checks"])  # fmt: skip
        # the warehouse (loaded by COPY + MERGE after each day's curation) equals the curated zone, row for row,
        # and its ledger holds each published curation run once
        assert day["checks"]["warehouse"]["rows"] > 0
        # every insight view, as the analyst queries it, against the ground truth
        assert {f"view {name}" for name in views.load_all()} <= set(day["checks"])
        assert all(c["rows"] > 0 for c in day["checks"].values()), day["checks"]
    assert run["returncode"] == 0


def test_the_fault_run_ends_with_the_clean_runs_tables(runs, tmp_path):
    databases = [_database(runs, "clean"), _database(runs, "faults")]
    edge = edge_keys(databases)
    clean, faulty = (content_hashes(database, edge) for database in databases)
    assert clean, "no curated table in the clean run"
    # the lines left out are few: the edge of the last day, not the tables
    assert sum(len(keys) for keys in edge.values()) < 0.05 * sum(
        duckdb.connect(str(databases[0]), read_only=True).sql(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        for name in edge
    )
    assert sorted(clean) == sorted(faulty)
    different = [key for key in clean if clean[key] != faulty[key]]
    assert different == []


def _database(runs: dict, kind: str) -> Path:
    line = next(line for line in runs[kind]["output"].splitlines() if "curated tables in" in line)
    return Path(line.rsplit("curated tables in ", 1)[1].strip())


def test_the_faults_were_injected_and_recovered(runs):
    days = runs["faults"]["days"]
    injected: dict[str, int] = {}
    for day in days:
        for name, count in day["faults"].items():
            injected[name] = injected.get(name, 0) + count
    for name in ("throttle", "server_error", "timeout", "truncated_document", "corrupt_document",
                 "duplicate_notification", "drop_notification", "delay_notification", "token_expiry",
                 "glue_crash", "landing_crash", "load_crash"):  # fmt: skip
        assert injected.get(name, 0) > 0, (name, injected)
    calls = sum(day["spapi_calls"] for day in days)
    refused = injected["throttle"] + injected["server_error"] + injected["timeout"]
    assert refused / calls >= 0.2, (refused, calls)  # a fifth of the calls at least answered 429, 5xx or too late
    assert all(day["ledger"]["failed"] == 0 for day in days)  # every transient fault passed


def test_no_secret_or_pre_signed_url_reaches_the_logs(runs):
    for kind in ("clean", "faults"):
        scan = runs[kind]["log_scan"]
        assert scan["lines"] > 1000 and scan["secrets_found"] == [], scan


def test_the_windows_stay_on_the_calendar_grid(runs):
    days = runs["clean"]["days"]
    first, later = days[0]["create_report_calls"], [d["create_report_calls"] for d in days[1:]]
    # after the first day's look-back, each day asks for the growing windows and the restated ones only
    assert all(count < first for count in later), (first, later)
