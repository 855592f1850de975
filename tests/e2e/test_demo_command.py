"""`spapi-lake demo` as a user runs it: a separate process, checked against the sandbox world's ground truth."""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from sandbox.world import World

ROOT = Path(__file__).resolve().parents[2]


def test_demo_exits_0_and_its_curated_rows_equal_the_generated_rows(tmp_path):
    # WHEN the demo runs in a fresh working directory
    result = subprocess.run(
        [sys.executable, "-m", "local.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
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
    listings = summary["datasets"]["merchant_listings"]
    assert listings["curated_rows"] == generated
    assert listings["quarantined_rows"] == 0
    assert listings["raw_objects"] == 5
    assert set(summary["stage_seconds"]) == {"start", "ingest", "curate", "query"}
    assert f"curated {generated}" in result.stdout
    # AND the DuckDB file it leaves holds the curated table
    con = duckdb.connect(str(tmp_path / summary["outputs"]["duckdb"]), read_only=True)
    assert con.sql("SELECT count(*) FROM merchant_listings").fetchone()[0] == generated


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT", "SPAPI_ENDPOINT", "LWA_ENDPOINT"):
        env.pop(name, None)  # the demo starts its own world
    return env
