"""Every file of the malformed corpus (tests/data/malformed/, expectations written by hand in cases.json) through
`spapi-lake curate-file`'s code, in this process: exact row accounting and quarantine reasons, or one clear error for a
file that cannot be read at all; never a traceback out of Spark."""

import json
from pathlib import Path

import pytest

from glue_jobs.errors import UnreadableObjectError
from local.curate_file import curate_file

CORPUS = Path(__file__).resolve().parents[1] / "data" / "malformed"
CASES = json.loads((CORPUS / "cases.json").read_text())["cases"]
COUNTS = ("rows_read", "curated", "quarantined", "deduplicated", "quarantine_reasons")


def test_the_corpus_has_at_least_thirty_files_each_with_its_expected_outcome():
    files = {p.name for p in CORPUS.iterdir() if p.name != "cases.json"}
    assert len(CASES) >= 30
    assert files == {case["file"] for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_a_malformed_file_is_accounted_for_exactly_or_refused_with_one_clear_error(spark, case):
    # GIVEN a report file as it might arrive, and what curating it must give
    path = CORPUS / case["file"]
    expected = case["expected"]
    marketplace, charset = case.get("marketplace", "ATVPDKIKX0DER"), case.get("charset", "utf-8")
    if "unreadable" in expected:
        # WHEN it is curated THEN it is refused as a whole, with the kind of problem and the file's name
        with pytest.raises(UnreadableObjectError) as refused:
            curate_file(spark, case["report_type"], marketplace, path, charset)
        assert refused.value.kind == expected["unreadable"], str(refused.value)
        assert refused.value.key == str(path) and str(refused.value)
        return
    # WHEN it is curated
    result = curate_file(spark, case["report_type"], marketplace, path, charset)
    # THEN every dataset read from it accounts for every row: curated, quarantined (with the rules), or deduplicated
    assert set(result["datasets"]) == set(expected)
    for table, want in expected.items():
        got = result["datasets"][table]
        assert {k: got[k] for k in COUNTS} == {k: want[k] for k in COUNTS}, table
        assert got["rows_read"] == got["curated"] + got["quarantined"] + got["deduplicated"]
        for key in ("missing_columns", "extra_columns"):
            if key in want:
                assert got[key] == want[key], (table, key)
