"""Compare the curated tables with the sandbox's ground truth, as the simulation does after every simulated day.

Each check reads a curated table through the catalog (DuckDB, as an analyst would) and asks the sandbox what Amazon
would have reported (sandbox/truth.py). A report is rendered at one moment (its `as_of`); the curated rows of a day
come from the report that owns that day (the latest landed window covering it, as the curation job decides with the
same function), so each day is compared with the truth at that report's moment. Nothing here computes a figure the
way the pipeline does: the truth is the sandbox's world model.

The change feed (orders by last update) leaves out, by Amazon's rule, a line whose last change falls after the
window's end: the lake has it from the next day's report. Such lines are not compared that day (`in_flight`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb

from glue_jobs.curate_reports.job import window_owners
from ingestion_lambdas import aws
from lake_formation import registry, views
from lake_formation.raw_zone import ManifestEntry, RawZone
from local.governed import LakeGrants, s3_source
from local.query import catalog_views, connect_lake
from local.warehouse_check import check_warehouse
from sandbox import truth
from sandbox.state import Sandbox

if TYPE_CHECKING:
    from local.stack import LocalStack

MAX_LISTED = 20  # differences kept per check


@dataclass
class TruthCheck:
    dataset: str
    rows: int = 0  # curated rows compared
    differences: list[str] = field(default_factory=list)
    in_flight: int = 0  # rows left for the next day (changed after the last complete day)

    def differ(self, what: str) -> None:
        if len(self.differences) < MAX_LISTED:
            self.differences.append(what)
        elif len(self.differences) == MAX_LISTED:
            self.differences.append("... (more)")


@dataclass
class Context:
    box: Sandbox
    con: duckdb.DuckDBPyConnection
    manifests: dict[str, list[ManifestEntry]]
    today: date
    sellers: list[tuple[str, str]]  # (account, marketplace)
    vendors: list[tuple[str, str]]
    _owners: dict[str, dict[tuple[str, str], datetime]] = field(default_factory=dict)

    def rows(self, sql: str, *params: object) -> list[dict[str, Any]]:
        relation = self.con.execute(sql, list(params))
        names = [d[0] for d in relation.description]
        return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]

    def as_of(self, report_id: str) -> datetime:
        report = self.box.reports.get(report_id)
        if report is None or report.as_of is None:
            return self.box.clock.now()
        return report.as_of

    def owners(self, table: str) -> dict[tuple[str, str], datetime]:
        """(marketplace, day) → the moment the report owning that day of the table was rendered (worked out once
        per table and day checked)."""
        if table not in self._owners:
            dataset = registry.dataset(table)
            entries = self.manifests.get(dataset.source.raw_name, [])
            self._owners[table] = {key: self.as_of(owner) for key, owner in window_owners(entries, dataset).items()}
        return self._owners[table]


def check_day(stack: LocalStack, day: date) -> list[TruthCheck]:
    """Every check for the simulated `day` (the lake holds the data up to the day before)."""
    assert stack.sandbox is not None and stack.resources is not None  # noqa: S101
    box = stack.sandbox.sandbox
    con = connect_lake(stack.aws.endpoint)
    tables = set(catalog_views(con, aws.client("glue"), stack.resources.database))
    con.sql(f'SET schema = "{stack.resources.database}"')
    manifests: dict[str, list[ManifestEntry]] = {}
    for entry in RawZone(aws.client("s3"), stack.resources.raw_bucket).manifests():
        manifests.setdefault(entry.raw_name, []).append(entry)
    accounts = box.world.accounts
    context = Context(
        box, con, manifests, day,
        sellers=[(a.account_id, m) for a in accounts if a.kind == "seller" for m in a.marketplace_ids],
        vendors=[(a.account_id, m) for a in accounts if a.kind == "vendor" for m in a.marketplace_ids],
    )  # fmt: skip
    checks = [
        check(context)
        for name, check in CHECKS.items()
        if name in tables or name not in registry.load_all()  # a table not curated yet is reported by its check
    ]
    checks += _check_views(stack, context, tables)
    checks.append(check_warehouse(stack, con, tables))
    con.close()
    return checks


def _check_views(stack: LocalStack, context: Context, tables: set[str]) -> list[TruthCheck]:
    """The insight views whose tables hold data, as the analyst queries them (Lake Formation's grants applied)."""
    from local.view_checks import VIEW_CHECKS  # noqa: PLC0415 - it builds on this module's Context

    assert stack.resources is not None  # noqa: S101
    grants = LakeGrants.read(aws.client("lakeformation"), aws.client("glue"), stack.resources.database,
                             stack.resources.outputs)  # fmt: skip
    con = connect_lake(stack.aws.endpoint)
    session = grants.open(con, "analyst", s3_source)
    all_views = views.load_all()
    checks = []
    for name, check in VIEW_CHECKS.items():
        needs = all_views[name].tables
        if (needs - set(all_views)) <= tables and name in session.views:
            checks.append(check(context, session))
        elif (needs - set(all_views)) <= tables:
            checks.append(TruthCheck(f"view {name}", differences=[f"refused: {session.refused_views.get(name)}"]))
    con.close()
    return checks


def _money(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize()


def check_orders(ctx: Context) -> TruthCheck:
    """Every order line purchased on a covered day: present once, with the quantity and price the owning report
    showed at its moment (Amazon shows 0 and no price for a cancelled line, a price once it shipped)."""
    result, owners = TruthCheck("orders"), ctx.owners("orders")
    for account, market in ctx.sellers:
        lake = {(r["amazon_order_id"], r["sku"]): r for r in ctx.rows(
            "SELECT amazon_order_id, sku, quantity, item_price, purchase_day FROM orders WHERE marketplace_id = ?",
            market)}  # fmt: skip
        expected: set[tuple[str, str]] = set()
        for (owner_market, day_text), moment in owners.items():
            if owner_market != market or date.fromisoformat(day_text) >= ctx.today:
                continue
            for line in truth.order_lines(ctx.box, account, market, date.fromisoformat(day_text), moment):
                key = (line["order_id"], line["sku"])
                expected.add(key)
                row = lake.get(key)
                if row is None:
                    result.differ(f"{market} {day_text} line {key} missing")
                    continue
                result.rows += 1
                quantity = 0 if line["status"] == "Cancelled" else line["quantity"]
                if row["quantity"] != quantity:
                    result.differ(f"{market} {key}: quantity {row['quantity']} != {quantity}")
        for key in set(lake) - expected:
            if str(lake[key]["purchase_day"]) in {d for m, d in owners if m == market}:
                result.differ(f"{market} line {key} is not in Amazon's report")
    return result


def check_order_status(ctx: Context) -> TruthCheck:
    """The change feed: every line's latest status and last update equal Amazon's as of the latest report, for each
    line whose last change falls before the day started (later changes arrive with the next day's report)."""
    result = TruthCheck("order_updates")
    horizon = datetime(ctx.today.year, ctx.today.month, ctx.today.day, tzinfo=UTC)
    latest = _latest_as_of(ctx, "order_updates")
    for account, market in ctx.sellers:
        lake = {(r["amazon_order_id"], r["sku"]): r for r in ctx.rows(
            "SELECT amazon_order_id, sku, order_status, last_updated_date FROM order_updates WHERE marketplace_id = ?",
            market)}  # fmt: skip
        moment = latest.get(market)
        if moment is None:
            continue
        for day_text in sorted({d for m, d in ctx.owners("orders") if m == market}):
            for line in truth.order_lines(ctx.box, account, market, date.fromisoformat(day_text), moment):
                if line["last_updated_at"] >= horizon:
                    result.in_flight += 1
                    continue
                key, row = (line["order_id"], line["sku"]), lake.get((line["order_id"], line["sku"]))
                if row is None:
                    result.differ(f"{market} {key} missing from the change feed")
                    continue
                result.rows += 1
                if row["order_status"] != line["status"]:
                    result.differ(f"{market} {key}: status {row['order_status']} != {line['status']}")
                updated = row["last_updated_date"].replace(tzinfo=UTC)
                if abs((updated - line["last_updated_at"]).total_seconds()) >= 1:
                    result.differ(f"{market} {key}: last updated {updated} != {line['last_updated_at']}")
    return result


def _latest_as_of(ctx: Context, table: str) -> dict[str, datetime]:
    """Per marketplace, the moment of the latest landed report of the table's source."""
    latest: dict[str, tuple[datetime, datetime]] = {}
    for entry in ctx.manifests.get(registry.dataset(table).source.raw_name, []):
        if entry.marketplace_id not in latest or entry.ingested_at > latest[entry.marketplace_id][0]:
            latest[entry.marketplace_id] = (entry.ingested_at, ctx.as_of(entry.object_id))
    return {market: moment for market, (_, moment) in latest.items()}


def check_units_per_asin(ctx: Context) -> TruthCheck:
    """Units and sales per ASIN × marketplace × day, from the curated order lines and their latest status, against
    Amazon's sales-by-ASIN of the day (lines still changing are left out on both sides)."""
    result = TruthCheck("units_per_asin")
    horizon = datetime(ctx.today.year, ctx.today.month, ctx.today.day, tzinfo=UTC)
    latest = _latest_as_of(ctx, "order_updates")
    for account, market in ctx.sellers:
        if market not in latest:
            continue
        lake = ctx.rows(
            """SELECT o.purchase_day AS day, o.asin, o.amazon_order_id, o.sku, o.quantity, u.order_status
               FROM orders o JOIN order_updates u USING (marketplace_id, amazon_order_id, sku)
               WHERE o.marketplace_id = ?""",
            market,
        )
        by_line = {(r["amazon_order_id"], r["sku"]): r for r in lake}
        for day_text in sorted({d for m, d in ctx.owners("orders") if m == market}):
            day = date.fromisoformat(day_text)
            expected: dict[str, int] = {}
            found: dict[str, int] = {}
            for line in truth.order_lines(ctx.box, account, market, day, latest[market]):
                if line["last_updated_at"] >= horizon:
                    continue
                if line["status"] != "Cancelled":
                    expected[line["asin"]] = expected.get(line["asin"], 0) + line["quantity"]
                row = by_line.get((line["order_id"], line["sku"]))
                if row is not None and row["order_status"] != "Cancelled":
                    found[row["asin"]] = found.get(row["asin"], 0) + line["quantity"]
            result.rows += len(expected)
            for asin in sorted(set(expected) | set(found)):
                if expected.get(asin, 0) != found.get(asin, 0):
                    result.differ(f"{market} {day} {asin}: {found.get(asin, 0)} units != {expected.get(asin, 0)}")
    return result


def check_sales_and_traffic(ctx: Context) -> TruthCheck:
    """Sales and traffic by date, restated: each day equals Amazon's figures at its owning report's moment."""
    result, owners = TruthCheck("sales_and_traffic_by_date"), ctx.owners("sales_and_traffic_by_date")
    fields = {"units_ordered": ("salesByDate", "unitsOrdered"), "sessions": ("trafficByDate", "sessions"),
              "page_views": ("trafficByDate", "pageViews"),
              "ordered_product_sales": ("salesByDate", "orderedProductSales")}  # fmt: skip
    lake = {(r["marketplace_id"], str(r["date"])): r for r in ctx.rows("SELECT * FROM sales_and_traffic_by_date")}
    return compare_days(ctx, result, owners, lake, fields)


def compare_days(
    ctx: Context,
    result: TruthCheck,
    owners: dict[tuple[str, str], datetime],
    lake: dict[tuple[str, str], dict[str, Any]],
    fields: dict[str, tuple[str, str]],
) -> TruthCheck:
    """Each owned complete day's lake row (by marketplace and yyyy-mm-dd) against Amazon's sales and traffic
    by-date record at the owning report's moment: `fields` maps a column to the record's (group, name)."""
    accounts = {m: a for a, m in ctx.sellers}
    for (market, day_text), moment in sorted(owners.items()):
        if market not in accounts or date.fromisoformat(day_text) >= ctx.today:
            continue
        record = truth.sales_and_traffic_by_date(ctx.box, accounts[market], market, date.fromisoformat(day_text),
                                                 moment)  # fmt: skip
        row = lake.get((market, day_text))
        if record is None or row is None:
            if (record is None) != (row is None):
                result.differ(f"{market} {day_text}: lake {'has' if row else 'lacks'} the day, Amazon the opposite")
            continue
        result.rows += 1
        for column, (group, name) in fields.items():
            value = record[group][name]
            value = value["amount"] if isinstance(value, dict) else value
            if _money(row[column]) != _money(value):
                result.differ(f"{market} {day_text} {column}: {row[column]} != {value}")
    return result


def check_settlements(ctx: Context) -> TruthCheck:
    """Every settlement Amazon closed is curated once, its total and line count as Amazon's."""
    result = TruthCheck("settlements")
    lake = {r["settlement_id"]: r for r in ctx.rows(
        """SELECT settlement_id, max(total_amount) AS total, count(*) FILTER (WHERE transaction_type IS NOT NULL)
           AS lines FROM settlements GROUP BY 1""")}  # fmt: skip
    for account, market in ctx.sellers:
        for settlement in truth.settlements(ctx.box, account, market):
            row = lake.get(settlement["settlement_id"])
            if row is None:
                result.differ(f"{market} settlement {settlement['settlement_id']} missing")
                continue
            result.rows += int(row["lines"])
            if _money(row["total"]) != _money(settlement["total"]) or row["lines"] != settlement["lines"]:
                result.differ(f"{market} {settlement['settlement_id']}: total {row['total']} / {row['lines']} lines "
                              f"!= {settlement['total']} / {settlement['lines']}")  # fmt: skip
    return result


def check_inventory(ctx: Context) -> TruthCheck:
    """Today's FBA inventory snapshot: every SKU with Amazon's fulfillable, reserved and inbound quantities."""
    result = TruthCheck("fba_inventory")
    for account, market in ctx.sellers:
        lake = {
            r["sku"]: r
            for r in ctx.rows(
                "SELECT * FROM fba_inventory WHERE marketplace_id = ? AND snapshot_date = ?", market, ctx.today
            )
        }
        if not lake:
            result.differ(f"{market}: no snapshot for {ctx.today}")
            continue
        latest = max(lake.values(), key=lambda r: r["ingested_at"])
        for sku, expected in truth.inventory(ctx.box, account, market, ctx.as_of(latest["report_id"])).items():
            if expected.get("fulfillable") is None:
                continue  # merchant-fulfilled: not in the FBA report
            row = lake.get(sku)
            if row is None:
                result.differ(f"{market} {sku} missing from the snapshot")
                continue
            result.rows += 1
            if row["afn_fulfillable_quantity"] != expected["fulfillable"]:
                result.differ(f"{market} {sku}: fulfillable {row['afn_fulfillable_quantity']} != "
                              f"{expected['fulfillable']}")  # fmt: skip
    return result


def check_vendor_sales(ctx: Context) -> TruthCheck:
    """Vendor sales per ASIN and day, late and restated: each day as Amazon showed it at the owning report's moment."""
    result, owners = TruthCheck("vendor_sales"), ctx.owners("vendor_sales")
    lake = {(r["marketplace_id"], str(r["start_date"]), r["asin"]): r for r in ctx.rows("SELECT * FROM vendor_sales")}
    for account, market in ctx.vendors:
        for (owner_market, day_text), moment in sorted(owners.items()):
            if owner_market != market or date.fromisoformat(day_text) >= ctx.today:
                continue
            figures = truth.vendor(ctx.box, account, market, date.fromisoformat(day_text), moment) or {}
            found = {asin for (m, d, asin) in lake if m == market and d == day_text}
            for asin in sorted(set(figures) | found):
                row, expected = lake.get((market, day_text, asin)), figures.get(asin)
                if row is None or expected is None:
                    result.differ(f"{market} {day_text} {asin}: {'missing' if row is None else 'not in the report'}")
                    continue
                result.rows += 1
                if row["ordered_units"] != expected.get("orderedUnits"):
                    result.differ(f"{market} {day_text} {asin}: ordered {row['ordered_units']} != "
                                  f"{expected.get('orderedUnits')}")  # fmt: skip
    return result


CHECKS = {
    "orders": check_orders,
    "order_updates": check_order_status,
    "units_per_asin": check_units_per_asin,
    "sales_and_traffic_by_date": check_sales_and_traffic,
    "settlements": check_settlements,
    "fba_inventory": check_inventory,
    "vendor_sales": check_vendor_sales,
}
