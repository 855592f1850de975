import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from lake_formation import registry, render
from lake_formation.registry import Dataset
from sandbox.report_types import MERCHANT_LISTINGS_HEADER, REPORT_TYPES, ReportRequest
from sandbox.world import World
from tests.spapi_contract import MODELS

ROOT = Path(__file__).resolve().parents[2]


def test_every_report_dataset_reads_a_report_the_sandbox_serves_to_the_same_account_kind():
    sources = [d.source for d in registry.load_all().values() if d.source.kind == "report"]
    assert len({(s.report_type, s.record_path) for s in sources}) == len(sources)  # one dataset per grain
    assert {s.report_type for s in sources} == set(REPORT_TYPES)  # every report the sandbox serves is curated
    for source in sources:
        assert source.report_type in REPORT_TYPES
        assert REPORT_TYPES[source.report_type].account_kind == source.account_kind


def test_registry_columns_cover_the_real_report_header():
    declared = {c.source for c in registry.dataset("merchant_listings").source_columns}
    assert declared == set(MERCHANT_LISTINGS_HEADER)


def test_glue_table_input_puts_partitions_apart_from_data_columns():
    dataset = registry.dataset("merchant_listings")
    table = render.glue_table_input(dataset, "s3://curated/merchant_listings/")
    data = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    keys = [c["Name"] for c in table["PartitionKeys"]]
    assert keys == ["marketplace_id", "snapshot_date"]
    assert not set(keys) & set(data)
    assert len(data) + len(keys) == len(dataset.columns)


def test_ddl_renders_every_column_once():
    dataset = registry.dataset("merchant_listings")
    athena = render.athena_ddl(dataset, "spapi_lake", "s3://curated/merchant_listings/")
    redshift = render.redshift_ddl(dataset, "spapi")
    for column in dataset.columns:
        assert f"`{column.name}`" in athena
        assert f"\n  {column.name} " in redshift
    assert "price DECIMAL(18,2)" in redshift
    assert "seller_sku VARCHAR(65535) NOT NULL" in redshift


def test_unknown_types_and_dangling_keys_are_rejected():
    text = (ROOT / "lake_formation" / "schemas" / "merchant_listings.yaml").read_text()
    spec = yaml.safe_load(text)
    spec["columns"][0]["type"] = "money"
    with pytest.raises(ValueError, match="unsupported type"):
        Dataset.model_validate(spec)
    spec = yaml.safe_load(text)
    spec["dedupe_key"] = ["nope"]
    with pytest.raises(ValueError, match="unknown columns"):
        Dataset.model_validate(spec)


@pytest.mark.parametrize("table", [t for t, d in registry.load_all().items() if d.source.format == "tsv"])
def test_every_flat_file_dataset_declares_exactly_the_real_header(table):
    dataset = registry.dataset(table)
    kind = REPORT_TYPES[dataset.source.report_type]
    account = "demo-seller-na" if kind.account_kind == "seller" else "demo-vendor-na"
    now = datetime.now(UTC)
    header = kind.render(World(), ReportRequest(account, "ATVPDKIKX0DER", now - timedelta(days=20), now, {})).header
    declared = [c.source for c in dataset.source_columns]
    assert sorted(declared) == sorted(header) and len(declared) == len(header)


@pytest.mark.parametrize("table", [t for t, d in registry.load_all().items() if d.source.format == "json"])
def test_every_json_dataset_reads_paths_the_report_schema_declares(table):
    dataset = registry.dataset(table)
    schema = json.loads((MODELS / f"report-schema_{dataset.source.report_type}.json").read_text())
    record = schema["properties"][dataset.source.record_path]["items"]

    def has(node, parts):
        node = schema["definitions"][node["$ref"].split("/")[-1]] if "$ref" in node else node
        return not parts or (parts[0] in node.get("properties", {}) and has(node["properties"][parts[0]], parts[1:]))

    for column in dataset.source_columns:
        assert has(record, column.source.split(".")), f"{table}: {column.source} is not in the report schema"


AMAZON_HEADERS = json.loads((ROOT / "tests" / "data" / "amazon_headers" / "flat_file_headers.json").read_text())
FLAT_FILE_TABLES = [t for t, d in registry.load_all().items() if d.source.format == "tsv"]


@pytest.mark.parametrize("table", FLAT_FILE_TABLES)
def test_every_flat_file_dataset_declares_the_header_amazon_delivers_or_a_listed_difference(table):
    # GIVEN the header Amazon delivers, from a source independent of the registry and the sandbox (each entry names it)
    dataset = registry.dataset(table)
    delivered = AMAZON_HEADERS[dataset.source.report_type]
    # WHEN compared with the columns the registry declares
    declared = [c.source for c in dataset.source_columns]
    # THEN they are the same columns, but for the differences the fixture lists with their reasons
    assert len(declared) == len(set(declared))
    assert set(declared) ^ set(delivered["header"]) == set(delivered["known_differences"])
    assert all(reason.strip() for reason in delivered["known_differences"].values())


def test_the_independent_headers_cover_every_flat_file_report_and_name_their_source():
    flat_reports = {registry.dataset(t).source.report_type for t in FLAT_FILE_TABLES}
    entries = {k: v for k, v in AMAZON_HEADERS.items() if not k.startswith("_")}
    assert set(entries) == flat_reports
    assert all(entry["source"] and entry["header"] for entry in entries.values())


def test_every_column_format_is_one_the_curation_job_parses():
    from glue_jobs.curate_reports.transforms import known_format  # noqa: PLC0415 - Spark-side module

    unknown = [
        (d.table, c.name, c.format) for d in registry.load_all().values() for c in d.columns if not known_format(c)
    ]
    assert unknown == []
