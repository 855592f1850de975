"""`spapi-lake demo` as a user runs it: a separate process, checked against the sandbox world's ground truth."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from local.demo import DEMO_DAYS
from sandbox.world import World

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(2700)  # three simulated days
def test_demo_exits_0_and_its_curated_rows_equal_the_generated_rows(tmp_path):
    # WHEN the demo runs in a fresh working directory
    result = subprocess.run(
        [sys.executable, "-m", "local.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=2400,
        check=False,
        env=_env(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # THEN the curated count equals what the sandbox's world generated for every demo account and marketplace
    world = World(seed=7, scale=1.0)
    generated = sum(
        len(world.listings(a.account_id, m)) for a in world.accounts if a.kind == "seller" for m in a.marketplace_ids
    )
    # (one listings snapshot a simulated day, for each of the 5 seller marketplaces)
    listings = summary["datasets"]["merchant_listings"]
    assert listings["curated_rows"] == DEMO_DAYS * generated
    assert listings["quarantined_rows"] == 0
    assert listings["raw_objects"] == DEMO_DAYS * 5
    assert set(summary) == {"demo", "ok", "stage_seconds", "ledger", "catalog", "datasets", "outputs"}
    assert set(summary["stage_seconds"]) == {"start", "ingest", "curate", "query"}
    assert f"curated {generated}" in result.stdout and "differences   0" in result.stdout
    # AND the DuckDB file it leaves holds the curated table, one snapshot per day
    con = duckdb.connect(str(tmp_path / summary["outputs"]["duckdb"]), read_only=True)
    assert con.sql("SELECT count(*) FROM merchant_listings").fetchone()[0] == DEMO_DAYS * generated
    assert con.sql("SELECT count(DISTINCT snapshot_date) FROM merchant_listings").fetchone()[0] == DEMO_DAYS


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT", "SPAPI_ENDPOINT", "LWA_ENDPOINT"):
        env.pop(name, None)  # the demo starts its own world
    return env
