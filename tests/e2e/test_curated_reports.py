"""Every flat-file report the ingestion landed, curated by the registry-driven Glue job and checked against the
sandbox's ground truth through the catalog (DuckDB views built from the Glue tables)."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from deployment.templates import load
from ingestion_lambdas import aws
from lake_formation import registry
from local.governed import AccessDeniedError, LakeGrants, s3_source
from local.pipeline import ingest, landed_manifests, run_curation, run_state_machine
from local.query import catalog_views, connect_lake

FLAT = [t for t, d in registry.load_all().items() if d.source.format == "tsv" and t != "merchant_listings"]
JSON = [t for t, d in registry.load_all().items() if d.source.format != "tsv"]


@pytest.fixture(scope="module")
def curated(stack):
    ingest(stack)
    run_state_machine(stack, "catalog_and_listings")
    stack.spark()
    runs = {table: run_curation(stack, table) for table in [*FLAT, *JSON, "merchant_listings"]}
    con = connect_lake(stack.aws.endpoint)
    catalog_views(con, aws.client("glue"), stack.resources.database)
    return runs, con


@pytest.mark.parametrize("table", FLAT)
def test_every_landed_line_is_curated_quarantined_or_deduplicated(stack, curated, table):
    runs, _ = curated
    run = runs[table]
    landed = sum(m.rows for m in landed_manifests(stack) if m.raw_name == registry.dataset(table).source.raw_name)
    assert run.status == "SUCCEEDED" and run.rows_read == landed > 0
    assert run.rows_read == run.curated + run.quarantined + run.deduplicated
    assert run.quarantined == 0, run.quarantine_reasons  # the sandbox writes only well-formed rows


def test_units_ordered_per_marketplace_and_day_equal_the_ground_truth(stack, curated):
    _, con = curated
    today = datetime.now(UTC).date()
    # days whose lines no longer change (a line is cancelled, if at all, within 48 h): the reports and the truth
    # were taken seconds apart
    first, last = today - timedelta(days=30), today - timedelta(days=3)
    for account in stack.sandbox.info()["accounts"]:
        if account["kind"] != "seller":
            continue
        for marketplace in account["marketplace_ids"]:
            truth = requests.get(
                f"{stack.sandbox.base_url}/_sandbox/truth/daily",
                params={"account_id": account["account_id"], "marketplace_id": marketplace,
                        "start": first.isoformat(), "end": last.isoformat()},
                timeout=10,
            ).json()  # fmt: skip
            curated_units = dict(
                con.sql(f"""
                SELECT strftime(CAST(purchase_date AT TIME ZONE 'UTC' AS DATE), '%Y-%m-%d'), sum(quantity)
                FROM spapi_lake.orders
                WHERE marketplace_id = '{marketplace}'
                  AND purchase_day BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'
                GROUP BY 1""").fetchall()
            )
            assert curated_units == {d["date"]: d["units_ordered"] for d in truth["days"] if d["units_ordered"]}


def test_each_settlement_total_is_the_sum_of_its_lines(curated):
    _, con = curated
    rows = con.sql("""
        SELECT settlement_id,
               max(total_amount) FILTER (WHERE transaction_type IS NULL) AS total,
               sum(amount) FILTER (WHERE transaction_type IS NOT NULL) AS lines
        FROM spapi_lake.settlements GROUP BY 1""").fetchall()
    assert len(rows) >= 5
    assert all(total == lines for _, total, lines in rows)


def test_the_japanese_shipments_extra_column_is_reported_not_lost(curated):
    runs, con = curated
    assert runs["fulfilled_shipments"].extra_columns == ["points-granted"]
    assert (
        con.sql(
            "SELECT count(*) FROM spapi_lake.fulfilled_shipments WHERE marketplace_id = 'A1VC38T7YXB528'"
        ).fetchone()[0]
        > 0
    )


@pytest.mark.parametrize("table", JSON)
def test_json_records_are_flattened_with_exact_accounting_and_no_quarantine(curated, table):
    runs, con = curated
    run = runs[table]
    assert run.status == "SUCCEEDED" and run.rows_read > 0
    assert run.rows_read == run.curated + run.quarantined + run.deduplicated
    assert run.quarantined == 0, run.quarantine_reasons
    assert run.validation.success


def test_sales_and_traffic_agrees_with_the_order_lines_in_the_lake(curated):
    # Two reports, two datasets, one world: units ordered per marketplace and day must agree.
    _, con = curated
    disagreements = con.sql("""
        WITH by_orders AS (
            SELECT marketplace_id, CAST(purchase_date AT TIME ZONE 'UTC' AS DATE) AS day, sum(quantity) AS units
            FROM spapi_lake.orders
            GROUP BY 1, 2)
        SELECT t.marketplace_id, t.date, t.units_ordered, o.units
        FROM spapi_lake.sales_and_traffic_by_date t
        LEFT JOIN by_orders o ON o.marketplace_id = t.marketplace_id AND o.day = t.date
        WHERE t.units_ordered <> coalesce(o.units, 0) AND t.date < current_date - 2""").fetchall()
    assert disagreements == []
    assert con.sql("SELECT count(*) FROM spapi_lake.sales_and_traffic_by_date").fetchone()[0] >= 5 * 30


def test_catalog_and_listings_items_cover_every_listed_sku(curated):
    _, con = curated
    missing = con.sql("""
        SELECT l.marketplace_id, l.seller_sku FROM spapi_lake.merchant_listings l
        ANTI JOIN spapi_lake.listings_items i ON i.marketplace_id = l.marketplace_id AND i.sku = l.seller_sku
        """).fetchall()
    assert missing == []
    assert (
        con.sql("SELECT count(DISTINCT asin) FROM spapi_lake.catalog_items WHERE item_name IS NOT NULL").fetchone()[0]
        > 0
    )


PERSONAL = ("buyer_name", "buyer_email", "buyer_phone_number", "ship_address_1", "recipient_name", "bill_address_1")


def governed(stack, role):
    grants = LakeGrants.read(aws.client("lakeformation"), aws.client("glue"), stack.resources.database,
                             stack.resources.outputs)  # fmt: skip
    return grants.open(connect_lake(stack.aws.endpoint), role, s3_source)


def test_an_analyst_reads_shipments_without_a_buyers_name_address_or_email_and_an_admin_with(stack, curated):
    analyst, admin = governed(stack, "analyst"), governed(stack, "admin")
    analyst_columns = [d[0] for d in analyst.query("SELECT * FROM fulfilled_shipments").description]
    admin_columns = [d[0] for d in admin.query("SELECT * FROM fulfilled_shipments").description]
    assert set(PERSONAL) <= set(admin_columns)
    assert not set(PERSONAL) & set(analyst_columns)
    assert {"amazon_order_id", "sku", "quantity_shipped"} <= set(analyst_columns)
    rows = analyst.query("SELECT count(*) FROM fulfilled_shipments").fetchone()[0]
    assert rows == admin.query("SELECT count(*) FROM fulfilled_shipments").fetchone()[0] > 0
    # the admin's rows carry the ship-to addresses (the sandbox, as Amazon without a restricted data token, leaves
    # buyer names, e-mails and phones empty)
    assert admin.query("SELECT count(ship_postal_code) FROM fulfilled_shipments").fetchone()[0] == rows
    with pytest.raises(
        AccessDeniedError, match=r"analyst has no SELECT on spapi_lake\.fulfilled_shipments\.buyer_name"
    ):
        analyst.query("SELECT amazon_order_id, buyer_name FROM fulfilled_shipments")
    with pytest.raises(AccessDeniedError, match="pii=true"):
        analyst.query("SELECT ship_postal_code FROM orders")


def grant_shapes(resource: dict, permissions: list[str]) -> set[tuple]:
    """A grant without its account-specific names, one per permission: the kind of resource, its tag expression."""
    if "LFTagPolicy" in resource:
        policy = resource["LFTagPolicy"]
        terms = tuple((t["TagKey"], tuple(t["TagValues"])) for t in policy["Expression"])
        return {("LFTagPolicy", policy["ResourceType"], terms, permission) for permission in permissions}
    return {(next(iter(resource)), permission) for permission in permissions}


def test_the_grants_enforced_are_the_ones_the_governance_template_declares(stack, curated):
    declared = [
        grant_shapes(r["Properties"]["Resource"], r["Properties"]["Permissions"])
        for r in load("governance.yaml")["Resources"].values()
        if r["Type"] == "AWS::LakeFormation::PrincipalPermissions"
    ]
    granted = aws.client("lakeformation").list_permissions()["PrincipalResourcePermissions"]
    assert set().union(*(grant_shapes(p["Resource"], p["Permissions"]) for p in granted)) == set().union(*declared)
    analyst = stack.resources.outputs["AnalystRoleArn"]
    reads = [
        p for p in granted if p["Principal"]["DataLakePrincipalIdentifier"] == analyst and "SELECT" in p["Permissions"]
    ]
    assert set().union(*(grant_shapes(p["Resource"], ["SELECT"]) for p in reads)) == {
        ("LFTagPolicy", "TABLE", (("layer", ("curated",)), ("pii", ("false",))), "SELECT")
    }
    assert not [p for p in granted if p["Principal"]["DataLakePrincipalIdentifier"] == "IAM_ALLOWED_PRINCIPALS"]
    # Every PII column of the registry is tagged pii=true in the catalog, and nothing else is.
    lakeformation, database = aws.client("lakeformation"), stack.resources.database
    for name, dataset in registry.load_all().items():
        columns = [c.name for c in dataset.columns]
        tagged = lakeformation.get_resource_lf_tags(
            Resource={"TableWithColumns": {"DatabaseName": database, "Name": name, "ColumnNames": columns}}
        ).get("LFTagsOnColumns", [])
        assert {c["Name"] for c in tagged} == {c.name for c in dataset.columns if c.pii}, name
