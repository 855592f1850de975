"""Our SP-API client against python-amazon-sp-api (with its `throttle_retry`), on one workload at Amazon's quotas.

The workload, the same for both clients, one thread each, in this order:
1. createReport x K (GET_MERCHANT_LISTINGS_ALL_DATA, US), so the reports process while the rest runs;
2. N catalog items by ASIN: searchCatalogItems with 20 identifiers per call (N/20 calls) for both. Ours does it
   by itself (`CatalogItemsApi.search_by_identifiers`); the peer's `CatalogItems(version="2022-04-01")
   .search_catalog_items(identifiers=..., identifiersType="ASIN")` takes the same 20. Same calls, same quota: the
   figure compares how each client spends the quota, not which endpoint it picks. (`--peer-catalog get` makes the
   peer call getCatalogItem once per ASIN instead, its README's path: N calls on a quota of the same size.)
3. M listings items: getListingsItem per SKU, both;
4. K report lifecycles finished: every `--poll-s` seconds getReport for each pending report until DONE, then
   getReportDocument, the download and its gunzip and decoding (ours: `open_report_document` read to the end; the
   peer: `get_report_document(download=True)`).
Each call of the peer is wrapped in `sp_api.util.throttle_retry()` with its defaults (10 tries, 5 s then x1.3);
ours is the client as the producer builds it (token buckets, x-amzn-RateLimit-Limit, jittered retries).

Processes: the sandbox (`spapi-lake sandbox serve`, time scale 1, i.e. Amazon's default usage plans), ours (this
file with `--role ours`, in .venv) and the peer (this file with `--role peer`, in .venv-peers, a python3.11 venv
this benchmark makes and fills from requirements-peers.lock). Each client gets a fresh sandbox process with the same
seed: a usage plan is per (account, operation), and createReport's bucket takes 15 minutes to refill, so a client
run after the other on the same server would start with the other's drained buckets.

Figures per client: wall time of its process (start to exit), peak RSS (ru_maxrss from wait4 of that process),
429s (every HTTP answer is counted inside the client process, at requests' and httpx's send), and the achieved share
of the quota: for searchCatalogItems and getListingsItem, the phases the quota bounds, calls served ÷ the calls the
sandbox's token bucket allowed in the window they took (burst + rate x window, window from the first request's start
to the last response), summed over the two operations. The report operations are bound by processing time and are
not in the share. The ratio is wall_vs_peer = ours ÷ peer's (goal ≤ 0.5, with 0 x 429 for ours).

Usage: python bench/peers.py [--asins N] [--listings M] [--reports K] [--poll-s S] [--rounds R]
                             [--peer-catalog search|get]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_VENV = ROOT / ".venv-peers"
PEER_LOCK = ROOT / "requirements-peers.lock"
ACCOUNT = "demo-seller-na"
US = "ATVPDKIKX0DER"
REPORT_TYPE = "GET_MERCHANT_LISTINGS_ALL_DATA"
BATCH = 20  # searchCatalogItems' identifiers per call
SHARE_OPERATIONS = ("searchCatalogItems", "getCatalogItem", "getListingsItem")


def operation_of(method: str, path: str) -> str:  # noqa: PLR0911 - one return per operation
    """The SP-API operation (or 'lwa', 'download') an HTTP request is, from its method and path."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if parts[0] == "auth":
        return "lwa"
    if parts[0] == "_documents":
        return "download"
    if parts[0] == "catalog":
        return "searchCatalogItems" if len(parts) == 3 else "getCatalogItem"  # noqa: PLR2004 - /catalog/v/items
    if parts[0] == "listings":
        return "getListingsItem" if len(parts) == 5 else "searchListingsItems"  # noqa: PLR2004
    if parts[:3] == ["reports", "2021-06-30", "documents"]:
        return "getReportDocument"
    if parts[:3] == ["reports", "2021-06-30", "reports"]:
        return "createReport" if method == "POST" else "getReport"
    return "other"


class Calls:
    """Every HTTP answer a client process got: per operation, served (2xx), throttled (429), other, first start and
    last end (perf_counter seconds)."""

    def __init__(self) -> None:
        self.ops: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def record(self, method: str, path: str, status: int, started: float, ended: float) -> None:
        with self._lock:
            blank = {"served": 0, "throttled": 0, "other": 0, "first": started, "last": ended}
            op = self.ops.setdefault(operation_of(method, path), blank)
            key = "served" if 200 <= status < 300 else "throttled" if status == 429 else "other"  # noqa: PLR2004
            op[key] += 1
            op["first"], op["last"] = min(op["first"], started), max(op["last"], ended)


def poll_until_done(report_ids: list[str], status_of, poll_s: float) -> dict[str, str]:  # noqa: ANN001
    """Report id → reportDocumentId: getReport for each pending report every `poll_s` seconds until all are DONE."""
    documents: dict[str, str] = {}
    while True:
        for report_id in [r for r in report_ids if r not in documents]:
            status, document_id = status_of(report_id)
            if status == "DONE":
                documents[report_id] = document_id
            elif status in ("CANCELLED", "FATAL"):
                raise RuntimeError(f"report {report_id} ended {status}")
        if len(documents) == len(report_ids):
            return documents
        time.sleep(poll_s)


def run_ours(spec: dict) -> dict:
    """The workload with our client, in this process (our venv)."""
    sys.path.insert(0, str(ROOT))
    import requests  # noqa: PLC0415 - the client's imports only in its own role

    from ingestion_lambdas.spapi.auth import LwaCredentials, LwaTokenProvider, RefreshTokenAuth  # noqa: PLC0415
    from ingestion_lambdas.spapi.catalog import CatalogItemsApi  # noqa: PLC0415
    from ingestion_lambdas.spapi.documents import open_report_document  # noqa: PLC0415
    from ingestion_lambdas.spapi.listings import ListingsItemsApi  # noqa: PLC0415
    from ingestion_lambdas.spapi.rate_limit import RateLimiter  # noqa: PLC0415
    from ingestion_lambdas.spapi.reports import ReportsApi  # noqa: PLC0415
    from ingestion_lambdas.spapi.transport import Transport  # noqa: PLC0415

    calls, send = Calls(), requests.Session.send

    def counted(self: requests.Session, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        started = time.perf_counter()
        response = send(self, request, **kwargs)
        calls.record(request.method or "", request.path_url, response.status_code, started, time.perf_counter())
        return response

    requests.Session.send = counted  # type: ignore[method-assign]
    info, account = spec["info"], spec["account"]
    session = requests.Session()
    provider = LwaTokenProvider(info["lwa_endpoint"], LwaCredentials(info["client_id"], info["client_secret"]))
    transport = Transport(info["spapi_endpoint"], RefreshTokenAuth(provider, account["refresh_token"]), RateLimiter(),
                          (ACCOUNT, account["region"]), session=session)  # fmt: skip
    reports, catalog, listings = ReportsApi(transport), CatalogItemsApi(transport), ListingsItemsApi(transport)
    seller = account["selling_partner_id"]
    report_ids = [reports.create_report(REPORT_TYPE, [US]) for _ in range(spec["reports"])]
    items = len(list(catalog.search_by_identifiers(spec["asins"], "ASIN", US)))
    got = sum(listings.get_item(seller, sku, US).sku == sku for sku in spec["skus"])

    def status_of(report_id: str) -> tuple[str, str | None]:
        report = reports.get_report(report_id)
        return report.processing_status, report.report_document_id

    lines = 0
    for document_id in poll_until_done(report_ids, status_of, spec["poll_s"]).values():
        with open_report_document(reports, document_id, session) as stream:
            lines += stream.read().count(b"\n")
    return {"catalog_items": items, "listings_items": got, "documents": len(report_ids), "document_lines": lines,
            "calls": calls.ops}  # fmt: skip


def run_peer(spec: dict) -> dict:
    """The workload with python-amazon-sp-api, in this process (the peer's venv); each call under throttle_retry()."""
    from urllib.parse import urlsplit  # noqa: PLC0415

    import httpx  # noqa: PLC0415 - the peer's imports only in its own role
    from sp_api.api import CatalogItems, ListingsItems, Reports  # noqa: PLC0415
    from sp_api.auth import AccessTokenClient  # noqa: PLC0415
    from sp_api.base import client as base_client  # noqa: PLC0415
    from sp_api.util import throttle_retry  # noqa: PLC0415

    calls, send = Calls(), httpx.Client.send

    def counted(self: httpx.Client, request: httpx.Request, **kwargs: object) -> httpx.Response:
        started = time.perf_counter()
        response = send(self, request, **kwargs)
        calls.record(request.method, request.url.raw_path.decode(), response.status_code, started, time.perf_counter())
        return response

    httpx.Client.send = counted  # type: ignore[method-assign]
    info, account = spec["info"], spec["account"]
    lwa = urlsplit(info["lwa_endpoint"])

    class SandboxTokenClient(AccessTokenClient):  # the peer's hook for its LWA host (auth_token_client_class)
        scheme, host, path = f"{lwa.scheme}://", lwa.netloc, lwa.path

    # The peer builds its Host header as endpoint[8:] (it assumes "https://"): for "http://" that drops a character,
    # and the sandbox builds document URLs from Host. The one adapter plain HTTP needs: the host from the endpoint.
    headers = base_client.Client.headers
    base_client.Client.headers = property(lambda self: {**headers.fget(self), "host": urlsplit(self.endpoint).netloc})

    class Marketplace:  # what the peer reads from a Marketplaces member
        endpoint, marketplace_id, region = info["spapi_endpoint"], US, account["region"]

    options = {"marketplace": Marketplace, "refresh_token": account["refresh_token"],
               "auth_token_client_class": SandboxTokenClient,
               "credentials": {"refresh_token": account["refresh_token"], "lwa_app_id": info["client_id"],
                               "lwa_client_secret": info["client_secret"]}}  # fmt: skip
    reports = Reports(**options)
    catalog = CatalogItems(version="2022-04-01", **options)
    listings = ListingsItems(version="2021-08-01", **options)
    seller = account["selling_partner_id"]

    @throttle_retry()
    def create_report() -> str:
        return reports.create_report(reportType=REPORT_TYPE, marketplaceIds=[US]).payload["reportId"]

    @throttle_retry()
    def search(batch: list[str]) -> int:
        return len(catalog.search_catalog_items(identifiers=",".join(batch), identifiersType="ASIN",
                                                marketplaceIds=US, includedData="summaries",
                                                pageSize=BATCH).payload.get("items", []))  # fmt: skip

    @throttle_retry()
    def get_catalog_item(asin: str) -> int:
        return int(catalog.get_catalog_item(asin, marketplaceIds=US, includedData="summaries").payload["asin"] == asin)

    @throttle_retry()
    def get_listing(sku: str) -> bool:
        item = listings.get_listings_item(seller, sku, marketplaceIds=US, includedData="summaries")
        return item.payload["sku"] == sku

    @throttle_retry()
    def status_of(report_id: str) -> tuple[str, str | None]:
        payload = reports.get_report(report_id).payload
        return payload["processingStatus"], payload.get("reportDocumentId")

    @throttle_retry()
    def document(document_id: str) -> str:
        return reports.get_report_document(document_id, download=True).payload["document"]

    report_ids = [create_report() for _ in range(spec["reports"])]
    asins = spec["asins"]
    if spec["peer_catalog"] == "get":
        items = sum(get_catalog_item(asin) for asin in asins)
    else:
        items = sum(search(asins[i : i + BATCH]) for i in range(0, len(asins), BATCH))
    got = sum(get_listing(sku) for sku in spec["skus"])
    documents = poll_until_done(report_ids, status_of, spec["poll_s"])
    lines = sum(document(document_id).count("\n") for document_id in documents.values())
    return {"catalog_items": items, "listings_items": got, "documents": len(report_ids), "document_lines": lines,
            "calls": calls.ops}  # fmt: skip


# ---- the driver (our venv) -------------------------------------------------------------------------------------


def peer_python() -> Path:
    """.venv-peers/bin/python, made with python3.11 and filled from requirements-peers.lock when missing."""
    python = PEER_VENV / "bin" / "python"
    check = [str(python), "-c", "import sys; from importlib.metadata import version as v; "
             "sys.exit(v('python-amazon-sp-api') != sys.argv[1])", pinned_version()]  # fmt: skip
    if python.exists() and subprocess.run(check, check=False).returncode == 0:  # noqa: S603
        return python
    subprocess.run(["python3.11", "-m", "venv", str(PEER_VENV)], check=True)  # noqa: S603, S607
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(PEER_LOCK)], check=True)  # noqa: S603
    return python


def pinned_version() -> str:
    line = next(x for x in PEER_LOCK.read_text().splitlines() if x.startswith("python-amazon-sp-api=="))
    return line.split("==")[1].split()[0]


def start_sandbox(scale: float) -> tuple[subprocess.Popen[str], dict]:
    """`spapi-lake sandbox serve` at time scale 1 (Amazon's default usage plans) in a process of its own."""
    command = [sys.executable, "-m", "local.cli", "sandbox", "serve", "--port", "0", "--time-scale", "1",
               "--scale", str(scale)]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout is not None  # noqa: S101
    return process, json.loads(process.stdout.readline())


def measure(python: Path, role: str, spec: dict) -> dict:
    """One client process: its result, wall seconds and peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as folder:
        spec_file, out_file = Path(folder) / "spec.json", Path(folder) / "out.json"
        spec_file.write_text(json.dumps(spec))
        started = time.perf_counter()
        command = [str(python), str(Path(__file__).resolve()), "--role", role, "--spec", str(spec_file)]
        # cwd: neither client picks up the other's packages from the working directory
        process = subprocess.Popen([*command, "--out", str(out_file)], cwd=tempfile.gettempdir())  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"{role} exited {process.returncode}")
        result = json.loads(out_file.read_text())
    return {**result, "wall_s": wall, "rss_mb": usage.ru_maxrss / 1024}


def share(calls: dict, plans: dict) -> float:
    """Σ served ÷ Σ (burst + rate x window) over the quota-bound operations the client called."""
    served = allowed = 0.0
    for name in SHARE_OPERATIONS:
        if name in calls:
            op, plan = calls[name], plans[name]
            served += op["served"]
            allowed += plan.burst + plan.rate * (op["last"] - op["first"])
    return served / allowed


def one_round(python: Path, args: argparse.Namespace) -> dict[str, dict]:
    sys.path.insert(0, str(ROOT))
    from sandbox.quotas import USAGE_PLANS  # noqa: PLC0415
    from sandbox.world import World  # noqa: PLC0415

    listed = World(args.seed, args.scale).listings(ACCOUNT, US)
    if len(listed) < max(args.asins, args.listings):
        raise SystemExit(f"the world has {len(listed)} US listings at --scale {args.scale}: raise --scale")
    results = {}
    for role, interpreter in (("ours", Path(sys.executable)), ("peer", python)):
        server, info = start_sandbox(args.scale)
        try:
            account = next(a for a in info["accounts"] if a["account_id"] == ACCOUNT)
            spec = {"info": info, "account": account, "reports": args.reports, "poll_s": args.poll_s,
                    "asins": [x.asin for x in listed[: args.asins]],
                    "skus": [x.seller_sku for x in listed[: args.listings]],
                    "peer_catalog": args.peer_catalog}  # fmt: skip
            result = measure(interpreter, role, spec)
        finally:
            server.terminate()
            server.wait(timeout=10)
        result["share"] = share(result["calls"], USAGE_PLANS)
        result["throttled"] = sum(op["throttled"] for op in result["calls"].values())
        results[role] = result
        ops = ", ".join(f"{name} {op['served']:.0f}/{op['throttled']:.0f}x429" for name, op in result["calls"].items())
        print(f"{role}: {result['wall_s']:.1f} s, share {result['share']:.3f}, {result['throttled']} x 429, "
              f"RSS {result['rss_mb']:.0f} MB; {result['catalog_items']} catalog items, {result['listings_items']} "
              f"listings, {result['documents']} documents ({result['document_lines']} lines); {ops}",
              flush=True)  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asins", type=int, default=200, help="N catalog items by ASIN")
    parser.add_argument("--listings", type=int, default=200, help="M getListingsItem calls, one per SKU")
    parser.add_argument("--reports", type=int, default=10, help="K report lifecycles")
    parser.add_argument("--poll-s", type=float, default=5.0, help="seconds between getReport rounds")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--peer-catalog", choices=("search", "get"), default="search")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scale", type=float, default=6.0, help="world scale (enough distinct ASINs and SKUs)")
    parser.add_argument("--role", choices=("ours", "peer"), help=argparse.SUPPRESS)
    parser.add_argument("--spec", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        run = run_ours if args.role == "ours" else run_peer
        args.out.write_text(json.dumps(run(json.loads(args.spec.read_text()))))
        return
    python = peer_python()
    rounds = [one_round(python, args) for _ in range(args.rounds)]

    def median(role: str, key: str) -> float:
        return statistics.median(r[role][key] for r in rounds)

    ours, peer = median("ours", "wall_s"), median("peer", "wall_s")
    print(f"RESULT ours_wall_s={ours:.1f} peer_wall_s={peer:.1f} wall_vs_peer={ours / peer:.3f} "
          f"ours_share={median('ours', 'share'):.3f} peer_share={median('peer', 'share'):.3f} "
          f"ours_429={median('ours', 'throttled'):.0f} peer_429={median('peer', 'throttled'):.0f} "
          f"ours_rss_mb={median('ours', 'rss_mb'):.0f} peer_rss_mb={median('peer', 'rss_mb'):.0f} "
          f"asins={args.asins} listings={args.listings} reports={args.reports} rounds={args.rounds} "
          f"peer_catalog={args.peer_catalog} quotas=amazon_default")  # fmt: skip


if __name__ == "__main__":
    main()
