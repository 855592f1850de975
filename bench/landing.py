"""Can a small Lambda land a multi-gigabyte report? Peak memory and throughput of the landing path.

A gzip-compressed, Cp1252-encoded order report of at least --gigabytes GB uncompressed is generated once (cached in
.cache/bench/) and served over loopback HTTP like a pre-signed S3 URL. A separate process lands it with the
ingestion code (`open_document` → `DocumentStream` → `RawZone.upload_stream`, an S3 multipart upload into a moto
server process) and reports its own peak RSS. A second process runs the same download and decode without the upload.
The baseline is `gzip -dc` on the same file in the same run; ratios are our throughput ÷ gzip's (uncompressed bytes
per second). Goals: peak RSS ≤ 150 MB and ≥ 50% of gzip's throughput.

Usage: python bench/landing.py [--gigabytes G] [--rounds R]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / ".cache" / "bench"
BUCKET = "bench-raw"


def generate(path: Path, gigabytes: float) -> int:
    """An order report in Cp1252, gzip level 6 (as Amazon's documents), of at least `gigabytes` GB; returns bytes."""
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415 - only when the file is missing

    from sandbox.report_content import ReportRequest  # noqa: PLC0415
    from sandbox.report_types import REPORT_TYPES  # noqa: PLC0415
    from sandbox.world import World  # noqa: PLC0415

    end = datetime(2026, 11, 20, tzinfo=UTC)
    report = REPORT_TYPES["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"].render(
        World(seed=7, scale=20), ReportRequest("demo-seller-eu", "A1PA6795UKMFR9", end - timedelta(days=3), end, {})
    )
    block = "".join("\t".join(row) + "\n" for row in report.rows)
    target, written = int(gigabytes * 1e9), 0
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_path = path.with_suffix(".partial")
    with gzip.open(partial_path, "wb", compresslevel=6) as out:
        header = ("\t".join(report.header) + "\n").encode("cp1252")
        out.write(header)
        written += len(header)
        copy = 0
        while written < target:
            chunk = block.replace("-", f"-{copy % 10}", 1).encode("cp1252")  # not byte-identical copies
            out.write(chunk)
            written += len(chunk)
            copy += 1
    partial_path.rename(path)
    return written


class Handler(SimpleHTTPRequestHandler):
    """Serves the cache folder as S3 would serve a report document: a charset in Content-Type, no Content-Encoding."""

    def guess_type(self, path: str | os.PathLike[str]) -> str:  # noqa: ARG002
        return "text/plain;charset=Cp1252"

    def log_message(self, *args: object) -> None:
        return


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Zeros(io.RawIOBase):
    """`size` bytes of nothing: what uploading alone costs, without a download or decode."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.bytes_out = size
        self.source_charset = "utf-8"

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def moto_s3(endpoint: str) -> Any:
    import boto3  # noqa: PLC0415

    fake = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}  # moto's  # pragma: allowlist secret
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **fake)


def child(url: str, s3_endpoint: str | None, zeros: int = 0) -> None:
    """The measured side, in its own process: land (or only decode, or only upload) the document; print seconds,
    bytes and peak RSS."""
    from datetime import date  # noqa: PLC0415

    from ingestion_lambdas.spapi.documents import open_document  # noqa: PLC0415
    from ingestion_lambdas.spapi.reports import ReportDocument  # noqa: PLC0415
    from lake_formation.raw_zone import RawObject, RawZone  # noqa: PLC0415

    document = ReportDocument(reportDocumentId="bench", url=url, compressionAlgorithm="GZIP")
    target = RawObject(raw_name="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", marketplace_id="A1PA6795UKMFR9",
                       day=date(2026, 11, 20), object_id="bench", format="tsv")  # fmt: skip
    started = time.perf_counter()
    with Zeros(zeros) if zeros else open_document(document) as stream:
        if s3_endpoint:
            s3 = moto_s3(s3_endpoint)
            RawZone(s3, BUCKET).upload_stream(target, stream, stream.source_charset)
        else:
            while stream.read(1 << 20):
                pass
        out = stream.bytes_out
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "bytes": out, "peak_rss_mb": peak_mb}))


def measure(url: str, s3_endpoint: str | None, zeros: int = 0) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", url, "--zeros", str(zeros)]
    command += ["--s3", s3_endpoint] if s3_endpoint else []
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"the measured process failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def gzip_seconds(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as source:
        subprocess.run(["gzip", "-dc"], stdin=source, stdout=subprocess.DEVNULL, check=True)  # noqa: S607
    return time.perf_counter() - started


def main() -> None:  # noqa: PLR0915 - one linear script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--s3", help=argparse.SUPPRESS)
    parser.add_argument("--zeros", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.s3, args.zeros)
        return
    path = CACHE / f"orders-{args.gigabytes:g}g.tsv.gz"
    if not path.exists():
        started = time.perf_counter()
        size = generate(path, args.gigabytes)
        print(f"generated {size / 1e9:.2f} GB uncompressed in {time.perf_counter() - started:.0f} s")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(CACHE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{path.name}"
    port = free_port()
    moto = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    s3_endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                moto_s3(s3_endpoint).create_bucket(Bucket=BUCKET)
                break
            except Exception:  # noqa: BLE001 - the server is still starting
                time.sleep(0.1)
        landing, decode, upload, baseline = [], [], [], []
        for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits all alike
            baseline.append(gzip_seconds(path))
            decode.append(measure(url, None))
            landing.append(measure(url, s3_endpoint))
            upload.append(measure(url, s3_endpoint, zeros=int(landing[-1]["bytes"])))
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        server.shutdown()
    uncompressed = landing[0]["bytes"]
    gzip_rate = uncompressed / statistics.median(baseline)
    land_rate = uncompressed / statistics.median(r["seconds"] for r in landing)
    decode_rate = uncompressed / statistics.median(r["seconds"] for r in decode)
    upload_rate = uncompressed / statistics.median(r["seconds"] for r in upload)
    peak = max(r["peak_rss_mb"] for r in landing)
    print(f"document: {path.stat().st_size / 1e6:.0f} MB gzip, {uncompressed / 1e9:.2f} GB as UTF-8")
    print(f"gzip -dc: {gzip_rate / 1e6:.0f} MB/s; decode only: {decode_rate / 1e6:.0f} MB/s "
          f"({decode_rate / gzip_rate:.2f}x); land into S3 (moto): {land_rate / 1e6:.0f} MB/s "
          f"({land_rate / gzip_rate:.2f}x); upload alone (zeros into moto): {upload_rate / 1e6:.0f} MB/s "
          f"({land_rate / upload_rate:.2f} of it reached); peak RSS landing {peak:.0f} MB, decoding "
          f"{max(r['peak_rss_mb'] for r in decode):.0f} MB (medians of {args.rounds})")  # fmt: skip
    print(f"RESULT uncompressed_gb={uncompressed / 1e9:.2f} gzip_mb_s={gzip_rate / 1e6:.0f} "
          f"decode_mb_s={decode_rate / 1e6:.0f} land_mb_s={land_rate / 1e6:.0f} "
          f"land_vs_gzip={land_rate / gzip_rate:.2f} decode_vs_gzip={decode_rate / gzip_rate:.2f} "
          f"upload_only_mb_s={upload_rate / 1e6:.0f} land_vs_upload_only={land_rate / upload_rate:.2f} "
          f"peak_rss_mb={peak:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
