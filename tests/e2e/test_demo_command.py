"""`spapi-lake demo` as a user runs it: a separate process, checked against the sandbox world's ground truth."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from local.demo import DEMO_DAYS
from local.insights_page import CHARTS
from sandbox.world import World
from tests.browser import chromium, visit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # WHEN the demo runs in a fresh working directory
    tmp_path = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "local.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=2400,
        check=False,
        env=_env(),
    )
    return result, tmp_path


def query(demo, *arguments: str) -> subprocess.CompletedProcess:
    _, tmp_path = demo
    return subprocess.run(
        [sys.executable, "-m", "local.cli", "query", *arguments], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=False, env=_env(),
    )  # fmt: skip


@pytest.mark.timeout(2700)  # three simulated days
def test_demo_exits_0_and_its_curated_rows_equal_the_generated_rows(demo):
    result, tmp_path = demo
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
    assert set(summary) == {"demo", "ok", "stage_seconds", "ledger", "catalog", "datasets", "operations", "outputs"}
    # AND the operator's status of the deployment: nothing blocked, dead-lettered or failed on a clean run
    assert summary["operations"] == {"blocked": [], "dead_letters": 0, "failed_reports": 0}
    assert "blocked by their suite: none" in result.stdout
    assert set(summary["stage_seconds"]) == {"start", "ingest", "curate", "query"}
    assert f"curated {generated}" in result.stdout and "differences   0" in result.stdout
    # AND the DuckDB file it leaves holds the curated table, one snapshot per day
    con = duckdb.connect(str(tmp_path / summary["outputs"]["duckdb"]), read_only=True)
    assert con.sql("SELECT count(*) FROM merchant_listings").fetchone()[0] == DEMO_DAYS * generated
    assert con.sql("SELECT count(DISTINCT snapshot_date) FROM merchant_listings").fetchone()[0] == DEMO_DAYS
    assert "the analyst role reads no PII" in result.stdout


@pytest.mark.timeout(600)
def test_the_warehouse_it_leaves_holds_the_curated_tables_row_for_row_each_run_loaded_once(demo):
    result, tmp_path = demo
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = json.loads(result.stdout.strip().splitlines()[-1])["outputs"]
    lake = tmp_path / outputs["duckdb"]  # the curated zone as the catalog reads it, exported by the demo
    con = duckdb.connect(str(tmp_path / outputs["warehouse"]), read_only=True)
    con.sql(f"ATTACH '{lake}' AS lake (READ_ONLY)")
    tables = [r[0] for r in con.sql("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'lake'")
              .fetchall()]  # fmt: skip
    assert len(tables) == 15
    for table in tables:
        columns = ", ".join(f'"{r[0]}"' for r in con.sql(
            f"SELECT column_name FROM information_schema.columns WHERE table_catalog = 'lake' AND table_name = "
            f"'{table}'").fetchall())  # fmt: skip
        curated, stored = f'SELECT {columns} FROM lake."{table}"', f"SELECT {columns} FROM spapi.{table}"
        assert con.sql(f"SELECT count(*) FROM ({curated} EXCEPT ALL {stored})").fetchone() == (0,), table
        assert con.sql(f"SELECT count(*) FROM ({stored} EXCEPT ALL {curated})").fetchone() == (0,), table
    # each published curation run in the ledger once: the listings snapshot is curated once a simulated day
    ledger = con.sql("SELECT table_name, run_id, count(*) AS n FROM spapi.load_ledger GROUP BY ALL").fetchall()
    assert ledger and all(n == 1 for _, _, n in ledger)
    assert len({table for table, _, _ in ledger}) == 15
    assert len([run for table, run, _ in ledger if table == "merchant_listings"]) == DEMO_DAYS
    assert "the warehouse (loaded after each curation" in result.stdout


@pytest.mark.timeout(600)
def test_the_query_command_answers_as_the_analyst_and_refuses_pii(demo):
    assert demo[0].returncode == 0, demo[0].stderr[-3000:]
    listed = query(demo, "--list")
    assert listed.returncode == 0, listed.stderr
    assert {"view   daily_sales", "view   payouts", "table  fulfilled_shipments"} <= {
        line[:26].rstrip() for line in listed.stdout.splitlines()}  # fmt: skip
    # the analyst's SELECT * has no buyer column; naming one is refused with the grant it lacks
    rows = json.loads(query(demo, "--format", "json", "SELECT * FROM fulfilled_shipments LIMIT 3").stdout)
    assert rows and not {"buyer_name", "buyer_email", "ship_address_1"} & set(rows[0])
    refused = query(demo, "SELECT buyer_name FROM fulfilled_shipments")
    assert refused.returncode == 1
    assert "analyst has no SELECT on spapi_lake.fulfilled_shipments.buyer_name" in refused.stderr
    assert "Traceback" not in refused.stderr
    admin = query(demo, "--as", "admin", "--format", "csv", "SELECT buyer_name FROM fulfilled_shipments LIMIT 2")
    assert admin.returncode == 0 and admin.stdout.splitlines()[0] == "buyer_name"
    # a view answers in Athena SQL (date_add is Athena's, not DuckDB's)
    recent = "SELECT sum(units_ordered) AS units FROM daily_sales WHERE day > date_add('day', -30, current_date)"
    assert json.loads(query(demo, "--format", "json", recent).stdout)[0]["units"] > 0
    broken = query(demo, "SELEC nothing")
    assert broken.returncode == 1 and broken.stderr.startswith("error: ") and "Traceback" not in broken.stderr


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    for name in ("AWS_ENDPOINT_URL", "MOTO_PORT", "SPAPI_ENDPOINT", "LWA_ENDPOINT"):
        env.pop(name, None)  # the demo starts its own world
    return env


@pytest.mark.timeout(600)
def test_the_insights_page_and_its_data_docs_open_offline_in_chromium(demo):
    result, tmp_path = demo
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "out"
    page = out / "insights.html"
    assert f"the insights page (charts from the views, opens offline): {page.relative_to(tmp_path)}" in result.stdout
    docs_index = out / "data_docs" / "orders" / "index.html"
    docs_run = next((out / "data_docs" / "orders" / "validations").rglob("*.html"))
    with chromium() as browser:
        insights = visit(browser, page, screenshot=out / "insights.png")
        docs = [visit(browser, docs_index), visit(browser, docs_run, screenshot=out / "data_docs_orders.png")]
    # THEN every chart rendered with data, and nothing errs or leaves the machine (the page or a Data Docs page)
    assert set(insights.charts) == {f"chart-{name}" for name in CHARTS}
    assert all(points > 0 for points in insights.charts.values()), insights.charts
    for seen in (insights, *docs):
        assert seen.errors == [] and seen.outside == [], (seen.errors, seen.outside)
    assert docs[0].requests > 5  # the Data Docs page loads its stylesheets and scripts, from its own folder
    assert (out / "insights.png").stat().st_size > 50_000
    # each dataset's last validation links its Data Docs, which exist
    html = page.read_text()
    for link in re.findall(r"href='(data_docs/[^']+)'", html):
        assert (out / link).is_file(), link
    assert "data_docs/orders/index.html" in html
