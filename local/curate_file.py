"""`spapi-lake curate-file`: parse and validate one report file exactly as the curation job does, without a lake.

A user's way to check a real report before deploying: the file (as downloaded from Amazon, gzip or not, in the
marketplace's charset) goes through the landing's decoding, then the job's own steps: parse (header parsing or JSON
flattening, registry typing, quarantine rules), merge (dedupe) and the great-expectations suite; the counts come back
per dataset, with the quarantine reasons. It lives outside the Glue package because it decodes with the ingestion
code (DocumentStream), which the Glue job does not ship.

A file that cannot be read at all (an HTML error page, gzipped twice, empty, JSON cut short, not the report it claims
to be, not in the given charset) raises UnreadableObjectError naming the file and what is wrong with it.
"""

from __future__ import annotations

import shutil
import tempfile
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glue_jobs.common.validation import validate
from glue_jobs.curate_reports.job import merge, parse
from glue_jobs.curate_reports.transforms import GZIP_MAGIC, HEAD_BYTES, quarantine_reasons
from glue_jobs.errors import UnknownRawNameError, UnreadableKind, UnreadableObjectError
from ingestion_lambdas.spapi.documents import DocumentStream
from ingestion_lambdas.spapi.errors import MalformedReportError, TruncatedDownloadError
from lake_formation import registry
from lake_formation.raw_zone import ManifestEntry, RawObject

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL_FILE = "local-file"  # the object id the file is curated under


def as_utf8(source: Path, charset: str, target: Path) -> None:
    """The landing's decoding (gzip by magic bytes, transcoding, strict errors), into a local UTF-8 file.

    Raises:
        UnreadableObjectError: the file is not in `charset`, or its gzip stream is corrupt or cut short.
    """
    try:
        with DocumentStream.from_file(source, charset) as stream, target.open("wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
    except MalformedReportError as err:
        kind: UnreadableKind = "charset" if "not valid" in str(err) else "gzip"
        hint = f" (is it another charset? --charset {charset} was given)" if kind == "charset" else ""
        raise UnreadableObjectError(f"{err}{hint}", kind=kind, key=str(source)) from err
    except TruncatedDownloadError as err:
        raise UnreadableObjectError(str(err), kind="truncated", key=str(source)) from err


def _gzipped_twice(source: Path) -> bool:
    """Whether the file is gzip whose content is gzip again (the landing inflates once, as Amazon compresses once)."""
    with source.open("rb") as file:
        start = file.read(HEAD_BYTES)
    if not start.startswith(GZIP_MAGIC):
        return False
    try:
        return zlib.decompressobj(wbits=47).decompress(start, 2).startswith(GZIP_MAGIC)
    except zlib.error:
        return False  # a corrupt stream: the decoding says so


def curate_file(spark: SparkSession, report_type: str, marketplace_id: str, path: Path, charset: str) -> dict[str, Any]:
    """Curate one local report file for every dataset read from `report_type`, publishing nothing.

    A dataset that cannot read the file has {"unreadable": {"kind", "reason"}} in place of its counts.

    Raises:
        UnknownRawNameError: no dataset of the registry reads that report type.
        UnreadableObjectError: no dataset can read the file (its `kind` says why, `key` is the file).
    """
    datasets = registry.reading(report_type)
    if not datasets:
        raise UnknownRawNameError(f"no dataset in the schema registry reads {report_type}")
    if _gzipped_twice(path):
        raise UnreadableObjectError("gzip-compressed twice: still gzip after inflating", kind="gzip", key=str(path))
    work = Path(tempfile.mkdtemp(prefix="curate-file-"))
    utf8 = work / "document"
    as_utf8(path, charset, utf8)
    with utf8.open(encoding="utf-8", errors="replace") as document:
        first_line = document.readline().rstrip("\r\n")
    now = datetime.now(UTC)
    target = RawObject(raw_name=report_type, marketplace_id=marketplace_id, day=now, object_id=LOCAL_FILE,
                       format=datasets[0].source.format)  # fmt: skip
    entry = ManifestEntry(
        object_id=target.object_id, raw_name=report_type, account_id="-", marketplace_id=marketplace_id, bucket="-",
        key=target.key, source_charset=charset, bytes=utf8.stat().st_size, rows=0, sha256="-",
        header=first_line.split("\t"), ingested_at=now,
    )  # fmt: skip

    def local_uri(_: ManifestEntry) -> str:
        return utf8.as_uri()

    def local_head(_: ManifestEntry) -> bytes:
        with utf8.open("rb") as document:
            return document.read(HEAD_BYTES)

    results: dict[str, Any] = {}
    for dataset in datasets:
        parsed = parse(spark, [entry], dataset, local_uri, local_head)
        if parsed.unreadable:
            (unreadable,) = parsed.unreadable
            results[dataset.table] = {"unreadable": {"kind": unreadable.kind, "reason": unreadable.reason}}
            continue
        merged = merge(parsed.valid, None, dataset)
        valid_count, quarantined_count = parsed.valid.count(), parsed.quarantined.count()
        outcome = validate(dataset, merged.rows, "curate-file", work / dataset.table)
        results[dataset.table] = {
            "rows_read": valid_count + quarantined_count,
            "curated": merged.new_rows,
            "quarantined": quarantined_count,
            "deduplicated": valid_count - merged.new_rows,
            "quarantine_reasons": quarantine_reasons(parsed.quarantined),
            "quarantined_examples": [
                r.raw_line[:300] for r in parsed.quarantined.select("raw_line").limit(3).collect()
            ],
            "missing_columns": parsed.missing_columns,
            "extra_columns": parsed.extra_columns,
            "validation": {"success": outcome.success, "failed": outcome.failed},
            "data_docs": str(outcome.docs_dir / "index.html") if outcome.docs_dir else None,
        }
    unreadable_by_all = [r["unreadable"] for r in results.values() if "unreadable" in r]
    if len(unreadable_by_all) == len(datasets):
        first = unreadable_by_all[0]
        raise UnreadableObjectError(first["reason"], kind=first["kind"], key=str(path))
    return {"file": str(path), "report_type": report_type, "marketplace_id": marketplace_id, "charset": charset,
            "datasets": results}  # fmt: skip
