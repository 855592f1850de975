"""Do 4 processes together run at Amazon's quota, and never over it?

For getReport, searchCatalogItems and getListingsItem: 4 worker **processes** (as 4 Lambda invocations would be),
each with its own client and rate limiter, share the quota through the DynamoDB table of shared buckets
(ingestion_lambdas/spapi/rate_limit.SharedBucket; here on moto's server), and make N calls between them (default
200) against a `spapi-lake sandbox serve` process whose quotas are sped up by --time-scale. The baseline is the
quota itself: in the window the calls took, the sandbox's token bucket would have allowed burst + rate x window
calls. Printed per operation: achieved ÷ allowed (goal ≥ 0.95) and the 429s the sandbox answered (goal 0; the
transport would retry them, so each worker counts them at the HTTP level). `--alone` runs the same workers without
the shared table, each pacing itself: what the processes do without it.

Usage: python bench/rate_limits.py [--calls N] [--time-scale T] [--alone]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sandbox import start_server  # noqa: E402
from ingestion_lambdas.spapi.catalog import SEARCH_CATALOG_ITEMS  # noqa: E402
from ingestion_lambdas.spapi.listings import GET_LISTINGS_ITEM  # noqa: E402
from ingestion_lambdas.spapi.reports import GET_REPORT  # noqa: E402

if TYPE_CHECKING:
    from ingestion_lambdas.spapi.transport import Operation

WORKERS = 4
ACCOUNT = "demo-seller-na"
US = "ATVPDKIKX0DER"
TABLE = "spapi-lake-quotas"
OPERATIONS = (GET_REPORT, SEARCH_CATALOG_ITEMS, GET_LISTINGS_ITEM)

# One worker process: told an operation and a number of calls on stdin, it makes them and answers with its 429s.
WORKER = """
import json, sys
from collections import Counter
import requests
from ingestion_lambdas import aws
from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth
from ingestion_lambdas.spapi.catalog import CatalogItemsApi
from ingestion_lambdas.spapi.listings import ListingsItemsApi
from ingestion_lambdas.spapi.rate_limit import QuotaTable, RateLimiter
from ingestion_lambdas.spapi.reports import ReportsApi
from ingestion_lambdas.spapi.transport import Transport

info, account_id, table, inputs = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
account = next(a for a in info["accounts"] if a["account_id"] == account_id)
session, statuses = requests.Session(), Counter()
session.hooks["response"].append(lambda r, **_: statuses.update([r.status_code]) if "/auth/" not in r.url else None)
provider = LwaTokenProvider(info["lwa_endpoint"], LwaCredentials(info["client_id"], info["client_secret"]), session)
shared = QuotaTable(aws.resource("dynamodb").Table(table), info["client_id"]) if table != "-" else None
transport = Transport(info["spapi_endpoint"], RefreshTokenAuth(provider, account["refresh_token"]),
                      RateLimiter(shared), (account_id, account["region"]), session=session)
reports, catalog, listings = ReportsApi(transport), CatalogItemsApi(transport), ListingsItemsApi(transport)
seller, market, skus = account["selling_partner_id"], inputs["marketplace"], inputs["skus"]
work = {
    "getReport": lambda i: reports.get_report(inputs["report_id"]),
    "searchCatalogItems": lambda i: list(catalog.search_by_identifiers(inputs["asins"], "ASIN", market)),
    "getListingsItem": lambda i: listings.get_item(seller, skus[i % len(skus)], market),
}
print("ready", flush=True)
for line in sys.stdin:
    operation, calls = line.split()
    before = statuses[429]
    for i in range(int(calls)):
        work[operation](i)
    print(json.dumps({"throttled": statuses[429] - before}), flush=True)
"""


def measure(workers: list[subprocess.Popen[str]], operation: Operation, calls: int, time_scale: float) -> tuple:
    """The workers make `calls` calls of one operation between them; returns achieved ÷ allowed and the 429s."""
    time.sleep(1.0)  # let every bucket refill: each measurement starts from a full burst, as Amazon's does
    share = calls // WORKERS
    started = time.perf_counter()
    for worker in workers:
        assert worker.stdin is not None  # noqa: S101
        worker.stdin.write(f"{operation.name} {share}\n")
        worker.stdin.flush()
    throttled = sum(json.loads(w.stdout.readline())["throttled"] for w in workers if w.stdout)
    window = time.perf_counter() - started
    rate, burst = operation.quota.rate * time_scale, operation.quota.burst
    allowed = burst + rate * window
    ratio = share * WORKERS / allowed
    print(f"{operation.name}: {WORKERS} processes, {share * WORKERS} calls in {window:.2f} s; quota {rate:g}/s "
          f"burst {burst} allows {allowed:.1f}; achieved/allowed {ratio:.3f}; 429s {throttled}")  # fmt: skip
    return ratio, throttled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument("--alone", action="store_true", help="each process paces itself (no shared table)")
    args = parser.parse_args()
    from ingestion_lambdas import aws  # noqa: PLC0415 - after LocalAws set the endpoint
    from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth  # noqa: PLC0415
    from ingestion_lambdas.spapi.listings import ListingsItemsApi  # noqa: PLC0415
    from ingestion_lambdas.spapi.rate_limit import RateLimiter  # noqa: PLC0415
    from ingestion_lambdas.spapi.reports import ReportsApi  # noqa: PLC0415
    from ingestion_lambdas.spapi.transport import Transport  # noqa: PLC0415
    from local.moto_runtime import LocalAws  # noqa: PLC0415

    moto = LocalAws()
    moto.start()
    server, info = start_server("--time-scale", str(args.time_scale))
    workers: list[subprocess.Popen[str]] = []
    try:
        aws.client("dynamodb").create_table(
            TableName=TABLE, KeySchema=[{"AttributeName": "quota_key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "quota_key", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        )  # fmt: skip
        account = next(a for a in info["accounts"] if a["account_id"] == ACCOUNT)
        provider = LwaTokenProvider(info["lwa_endpoint"], LwaCredentials(info["client_id"], info["client_secret"]))
        transport = Transport(info["spapi_endpoint"], RefreshTokenAuth(provider, account["refresh_token"]),
                              RateLimiter(), (ACCOUNT, account["region"]))  # fmt: skip
        listings = ListingsItemsApi(transport)
        # Inputs, fetched before the measured windows (other operations, other buckets).
        items = list(listings.search_items(account["selling_partner_id"], US))
        inputs = {"report_id": ReportsApi(transport).create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [US]),
                  "skus": [item.sku for item in items], "asins": [item.summaries[0].asin for item in items][:20],
                  "marketplace": US}  # fmt: skip
        table = "-" if args.alone else TABLE
        command = [sys.executable, "-c", WORKER, json.dumps(info), ACCOUNT, table, json.dumps(inputs)]
        for _ in range(WORKERS):
            quiet = dict(os.environ, POWERTOOLS_METRICS_DISABLED="true")  # stdout is the workers' protocol: no EMF
            workers.append(subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # noqa: S603
                                            text=True, env=quiet))  # fmt: skip
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"  # noqa: S101
        results = {operation.name: measure(workers, operation, args.calls, args.time_scale) for operation in OPERATIONS}
    finally:
        for worker in workers:
            worker.kill()
        server.terminate()
        server.wait(timeout=10)
        moto.stop()
    mode = "alone" if args.alone else "shared"
    print(f"RESULT mode={mode} processes={WORKERS} " + " ".join(
        f"{name}_ratio={ratio:.3f} {name}_429={throttled}" for name, (ratio, throttled) in results.items()
    ))  # fmt: skip


if __name__ == "__main__":
    main()
