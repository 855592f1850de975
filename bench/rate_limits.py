"""Does the client run at Amazon's quota, and never over it?

For getReport, searchCatalogItems and getListingsItem: 4 worker threads share one client (one rate limiter) and make
N calls (default 200) against a `spapi-lake sandbox serve` process whose quotas are sped up by --time-scale. The
baseline is the quota itself: in the window the calls took, the sandbox's token bucket would have allowed
burst + rate x window calls. Printed per operation: achieved ÷ allowed (goal ≥ 0.95) and the 429s the sandbox
answered (goal 0; the transport would retry them, so they are counted at the HTTP level).

Usage: python bench/rate_limits.py [--calls N] [--time-scale T]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sandbox import start_server  # noqa: E402
from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth  # noqa: E402
from ingestion_lambdas.spapi.catalog import SEARCH_CATALOG_ITEMS, CatalogItemsApi  # noqa: E402
from ingestion_lambdas.spapi.listings import GET_LISTINGS_ITEM, ListingsItemsApi  # noqa: E402
from ingestion_lambdas.spapi.rate_limit import RateLimiter  # noqa: E402
from ingestion_lambdas.spapi.reports import GET_REPORT, ReportsApi  # noqa: E402
from ingestion_lambdas.spapi.transport import Transport  # noqa: E402

WORKERS = 4
ACCOUNT = "demo-seller-na"
US = "ATVPDKIKX0DER"


def run(calls: int, work) -> float:  # noqa: ANN001 - a callable of the call index
    """`calls` calls over WORKERS threads; returns the window from the first request to the last response."""
    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(work, range(calls)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--time-scale", type=float, default=10.0)
    args = parser.parse_args()
    server, info = start_server("--time-scale", str(args.time_scale))
    try:
        account = next(a for a in info["accounts"] if a["account_id"] == ACCOUNT)
        session = requests.Session()
        statuses: Counter[tuple[str, int]] = Counter()
        lock = threading.Lock()

        def record(response: requests.Response, **_: object) -> None:
            with lock:
                statuses[(response.request.path_url.split("?")[0].split("/")[1], response.status_code)] += 1

        session.hooks["response"].append(record)
        provider = LwaTokenProvider(info["lwa_endpoint"], LwaCredentials(info["client_id"], info["client_secret"]))
        auth = RefreshTokenAuth(provider, account["refresh_token"])
        transport = Transport(
            info["spapi_endpoint"], auth, RateLimiter(), (ACCOUNT, account["region"]), session=session
        )
        reports, catalog = ReportsApi(transport), CatalogItemsApi(transport)
        listings = ListingsItemsApi(transport)
        # Inputs, fetched before the measured windows (other operations, other buckets).
        report_id = reports.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", [US])
        skus = [item.sku for item in listings.search_items(account["selling_partner_id"], US)]
        asins = [item.summaries[0].asin for item in listings.search_items(account["selling_partner_id"], US)][:20]
        time.sleep(1.0)  # let every bucket refill: each measurement starts from a full burst, as Amazon's does
        cases = {
            GET_REPORT: lambda i: reports.get_report(report_id),
            SEARCH_CATALOG_ITEMS: lambda i: list(catalog.search_by_identifiers(asins, "ASIN", US)),
            GET_LISTINGS_ITEM: lambda i: listings.get_item(account["selling_partner_id"], skus[i % len(skus)], US),
        }
        results = {}
        for operation, work in cases.items():
            family = {"getReport": "reports", "searchCatalogItems": "catalog", "getListingsItem": "listings"}
            before = statuses[(family[operation.name], 429)]
            window = run(args.calls, work)
            rate, burst = operation.quota.rate * args.time_scale, operation.quota.burst
            allowed = burst + rate * window
            results[operation.name] = (args.calls / allowed, statuses[(family[operation.name], 429)] - before)
            print(f"{operation.name}: {args.calls} calls in {window:.2f} s; quota {rate:g}/s burst {burst} allows "
                  f"{allowed:.1f}; achieved/allowed {args.calls / allowed:.3f}; 429s "
                  f"{results[operation.name][1]}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    print("RESULT " + " ".join(
        f"{name}_ratio={ratio:.3f} {name}_429={throttled}" for name, (ratio, throttled) in results.items()
    ))  # fmt: skip


if __name__ == "__main__":
    main()
