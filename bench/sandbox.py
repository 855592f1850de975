"""Is the sandbox ever the bottleneck? Two figures, each against a baseline measured in the same run.

1. getReport throughput on loopback with rate limits off: 4 client processes with keep-alive sessions call a separate
   `spapi-lake sandbox serve` process. Baseline: the same server's cheapest endpoint (/_sandbox/ping, no auth, no
   quota, no state), i.e. the HTTP floor of the stack; ratio = getReport rate / ping rate.
2. Generating 1M order lines (the world's orders for one marketplace over enough days), against a baseline that
   draws the same number of plain random tuples in a Python loop.

Usage: python bench/sandbox.py [--calls N] [--rounds R] [--lines L]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.world import World  # noqa: E402

WORKERS = 4


def start_server(*options: str) -> tuple[subprocess.Popen[str], dict]:
    """`spapi-lake sandbox serve` in a process of its own, on a free port; returns it and its start-up JSON line."""
    command = [sys.executable, "-m", "local.cli", "sandbox", "serve", "--port", "0", *options]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout is not None  # noqa: S101
    return process, json.loads(process.stdout.readline())


def hammer(url: str, token: str, calls: int) -> float:
    """One client process: `calls` sequential GETs on one keep-alive session; returns the elapsed seconds."""
    session = requests.Session()
    session.headers["x-amz-access-token"] = token
    started = time.perf_counter()
    for _ in range(calls):
        response = session.get(url, timeout=10)
        if response.status_code != 200:  # noqa: PLR2004
            raise RuntimeError(f"{url} answered {response.status_code}")
    return time.perf_counter() - started


def rate(pool: ProcessPoolExecutor, url: str, token: str, calls: int) -> float:
    per_worker = calls // WORKERS
    started = time.perf_counter()
    list(pool.map(hammer, [url] * WORKERS, [token] * WORKERS, [per_worker] * WORKERS))
    return per_worker * WORKERS / (time.perf_counter() - started)


def bench_get_report(calls: int, rounds: int) -> dict[str, float]:
    process, info = start_server("--no-rate-limits", "--time-scale", "1000")
    try:
        account = next(a for a in info["accounts"] if a["account_id"] == "demo-seller-na")
        token = requests.post(info["lwa_endpoint"], timeout=5, data={
            "grant_type": "refresh_token", "refresh_token": account["refresh_token"],
            "client_id": info["client_id"], "client_secret": info["client_secret"]}).json()["access_token"]  # fmt: skip
        body = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": account["marketplace_ids"][:1]}
        created = requests.post(f"{info['spapi_endpoint']}/reports/2021-06-30/reports", json=body, timeout=5,
                                headers={"x-amz-access-token": token})  # fmt: skip
        report_url = f"{info['spapi_endpoint']}/reports/2021-06-30/reports/{created.json()['reportId']}"
        ping_url = f"{info['spapi_endpoint']}/_sandbox/ping"
        get_report, ping = [], []
        with ProcessPoolExecutor(WORKERS) as pool:
            rate(pool, ping_url, token, WORKERS * 50)  # warm up connections and workers
            for _ in range(rounds):  # interleaved, so drift on a shared machine hits both alike
                get_report.append(rate(pool, report_url, token, calls))
                ping.append(rate(pool, ping_url, token, calls))
        return {"get_report_per_s": statistics.median(get_report), "ping_per_s": statistics.median(ping)}
    finally:
        process.terminate()
        process.wait(timeout=10)


def bench_generation(lines: int) -> dict[str, float]:
    world = World(seed=7, scale=640)
    account, marketplace = "demo-seller-na", "ATVPDKIKX0DER"
    world.listings(account, marketplace)  # the catalog and listings, built once (also timed below)
    started = time.perf_counter()
    generated, day = 0, date(2026, 10, 1)
    while generated < lines:
        generated += len(world.commerce.day_orders(account, marketplace, day))
        day += timedelta(days=1)
    generation_s = time.perf_counter() - started
    rng = random.Random(7)  # noqa: S311
    started = time.perf_counter()
    baseline = [(rng.randrange(10**7), rng.random(), rng.randrange(1, 5)) for _ in range(generated)]
    baseline_s = time.perf_counter() - started
    del baseline
    return {"order_lines": generated, "days": (day - date(2026, 10, 1)).days, "generation_s": generation_s,
            "baseline_tuples_s": baseline_s}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4000, help="calls per round and endpoint")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    http = bench_get_report(args.calls, args.rounds)
    ratio = http["get_report_per_s"] / http["ping_per_s"]
    print(f"getReport: {http['get_report_per_s']:.0f} calls/s (median of {args.rounds} rounds, {WORKERS} clients); "
          f"HTTP floor (ping): {http['ping_per_s']:.0f}/s; ratio {ratio:.2f}")  # fmt: skip
    gen = bench_generation(args.lines)
    print(f"generation: {gen['order_lines']} order lines ({gen['days']} days) in {gen['generation_s']:.1f} s; "
          f"plain random tuples: {gen['baseline_tuples_s']:.1f} s; ratio "
          f"{gen['generation_s'] / gen['baseline_tuples_s']:.1f}x")  # fmt: skip
    print(
        f"RESULT get_report_per_s={http['get_report_per_s']:.0f} ping_per_s={http['ping_per_s']:.0f} "
        f"get_report_vs_ping={ratio:.2f} "
        f"order_lines={gen['order_lines']} generation_s={gen['generation_s']:.2f} "
        f"baseline_tuples_s={gen['baseline_tuples_s']:.2f}"
    )


if __name__ == "__main__":
    main()
