"""`spapi-lake curate-file` on report files as Amazon delivers them (gzip, legacy charset), in a separate process."""

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sandbox.report_content import ReportRequest
from sandbox.report_types import REPORT_TYPES
from sandbox.world import World


def run(*args: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "local.cli", "curate-file", *args], capture_output=True, text=True,
                            check=True, timeout=600)  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_german_orders_file_in_cp1252_with_one_bad_line_is_counted_with_its_reason(tmp_path):
    end = datetime(2026, 11, 20, tzinfo=UTC)
    report = REPORT_TYPES["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"].render(
        World(), ReportRequest("demo-seller-eu", "A1PA6795UKMFR9", end - timedelta(days=2), end, {})
    )
    bad = list(report.rows[0])
    bad[report.header.index("quantity")] = "zwei"
    body = report.encode("Cp1252").decode("cp1252") + "\t".join(bad) + "\n"
    path = tmp_path / "orders.tsv.gz"
    path.write_bytes(gzip.compress(body.encode("cp1252")))
    result = run("--report-type", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
                 "--marketplace", "A1PA6795UKMFR9", "--charset", "cp1252", str(path))  # fmt: skip
    orders = result["datasets"]["orders"]
    assert orders["rows_read"] == len(report.rows) + 1
    assert orders["quarantined"] == 1 and orders["quarantine_reasons"] == {"invalid_int:quantity": 1}
    assert orders["curated"] == len(report.rows) and orders["deduplicated"] == 0
    assert orders["validation"]["success"] and orders["missing_columns"] == []
    assert any("München" in line or "Köln" in line or "Berlin" in line for line in orders["quarantined_examples"])


def test_a_report_type_no_dataset_reads_is_refused_with_its_name(tmp_path):
    path = tmp_path / "unknown.tsv"
    path.write_text("a\tb\n1\t2\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "local.cli", "curate-file", "--report-type", "GET_NO_SUCH_REPORT",
                             "--marketplace", "ATVPDKIKX0DER", str(path)], capture_output=True, text=True, check=False,
                            timeout=600)  # fmt: skip
    assert result.returncode == 2
    assert "no dataset in the schema registry reads GET_NO_SUCH_REPORT" in result.stderr


def test_a_file_that_cannot_be_read_is_refused_with_one_error_line_naming_it_and_no_traceback(tmp_path):
    # GIVEN an HTML error page saved where the listings report should be
    path = tmp_path / "listings.tsv"
    path.write_text("<!DOCTYPE html>\n<html><body><h1>503 Service Unavailable</h1></body></html>\n", encoding="utf-8")
    # WHEN it is checked with curate-file
    result = subprocess.run([sys.executable, "-m", "local.cli", "curate-file", "--report-type",
                             "GET_MERCHANT_LISTINGS_ALL_DATA", "--marketplace", "ATVPDKIKX0DER", str(path)],
                            capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    # THEN it exits 2 with one line that names the file and the problem, and nothing on stdout
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {path}: unreadable (html): an HTML/XML page, not a report: '<!DOCTYPE html>")
    assert "Traceback" not in result.stderr and result.stdout == ""
