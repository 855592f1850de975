"""QuickSight as code, rendered from the insight views and the charts: `cloudformation/bi.yaml`.

    python -m lake_formation.bi > cloudformation/bi.yaml   (a test keeps the file equal to this)

The charts (CHARTS) are declared once: the offline insights page draws them from the views (local/insights_page.py)
and this renders the same ones as a QuickSight dashboard. The stack (optional: `spapi-lake deploy --bi ARN`) holds
an Athena data source on the analysts' workgroup, one direct-query dataset per view a chart reads (its columns and
QuickSight types from the view's output, found by running the view on DuckDB over the registry's empty tables),
the dashboard with one visual per chart, shared with the QuickSight user or group given, and the Lake Formation
grants QuickSight's service role needs to query the views (what the analyst role may: layer=curated AND pii=false).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Literal

import duckdb
import yaml

from lake_formation import registry, views
from lake_formation.governance import _grants, _NoAliases, _tag_policy
from lake_formation.render import curated_location, empty_source, glue_table_input

Aggregation = Literal["SUM", "AVERAGE", "MIN", "MAX"]


@dataclass(frozen=True)
class Chart:
    id: str  # the page's and the dashboard's name for it
    title: str
    view: str
    kind: Literal["line", "bar", "hbar"]  # hbar: horizontal bars, a ranking
    x: str  # the category (a day for lines and bars)
    y: str  # the value
    aggregation: Aggregation = "SUM"
    color: str | None = "marketplace_id"  # one series per value
    limit: int | None = None  # a ranking's length
    order: Literal["ASC", "DESC"] = "DESC"


CHARTS = (
    Chart("sales", "Shipped sales per day and marketplace, in its currency (daily_sales)", "daily_sales", "line",
          "day", "shipped_sales"),
    Chart("units", "Units ordered per day and marketplace (daily_sales)", "daily_sales", "line", "day",
          "units_ordered"),
    Chart("movers", "Top movers: units in the last 7 days against the 7 before (product_movers)", "product_movers",
          "hbar", "asin", "change", limit=15),
    Chart("conversion", "Unit session percentage per day and marketplace (conversion)", "conversion", "line", "day",
          "unit_session_percentage", aggregation="AVERAGE"),
    Chart("cover", "Days of FBA cover, lowest first (inventory_health)", "inventory_health", "hbar", "asin",
          "days_of_cover", aggregation="MIN", limit=15, order="ASC"),
    Chart("payouts", "Settlement payouts per deposit date, in the marketplace's currency (payouts)", "payouts", "bar",
          "deposit_date", "total"),
    Chart("search", "The seller's click share of its top search terms, newest week (search_term_share)",
          "search_term_share", "hbar", "search_term", "our_click_share", aggregation="MAX", limit=15),
)  # fmt: skip

QUICKSIGHT_TYPES = {"VARCHAR": "STRING", "BOOLEAN": "BOOLEAN", "DATE": "DATETIME", "TIMESTAMP": "DATETIME"}
INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
DATASET_READ = ["quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
                "quicksight:DescribeIngestion", "quicksight:ListIngestions"]  # fmt: skip
SOURCE_READ = ["quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions",
               "quicksight:PassDataSource"]  # fmt: skip
DASHBOARD_READ = ["quicksight:DescribeDashboard", "quicksight:ListDashboardVersions", "quicksight:QueryDashboard"]


def quicksight_type(duckdb_type: str) -> str:
    if duckdb_type in INTEGERS:
        return "INTEGER"
    if duckdb_type.startswith("DECIMAL") or duckdb_type in ("DOUBLE", "FLOAT"):
        return "DECIMAL"
    return QUICKSIGHT_TYPES.get(duckdb_type, "STRING")


def view_columns() -> dict[str, list[tuple[str, str]]]:
    """Each view's output columns and their DuckDB types: the views run over the registry's tables, empty."""
    con = duckdb.connect()
    for dataset in registry.load_all().values():
        source = empty_source(glue_table_input(dataset, curated_location("lake", dataset.table)))
        con.execute(f'CREATE VIEW "{dataset.table}" AS SELECT * FROM {source}')
    found = {}
    for view in views.in_dependency_order():
        con.execute(f'CREATE VIEW "{view.name}" AS {view.duckdb_sql}')
        found[view.name] = [(str(row[0]), str(row[1])) for row in con.execute(f'DESCRIBE "{view.name}"').fetchall()]
    con.close()
    return found


def _logical(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _column(view: str, name: str) -> dict[str, str]:
    return {"DataSetIdentifier": view, "ColumnName": name}


def _visual(chart: Chart, types: dict[str, str]) -> dict[str, Any]:
    """One chart as a QuickSight visual: lines or bars over a day, or a ranking of horizontal bars."""
    on_date = types[chart.x] == "DATETIME"
    category = (
        {
            "DateDimensionField": {
                "FieldId": f"{chart.id}-x",
                "Column": _column(chart.view, chart.x),
                "DateGranularity": "DAY",
            }
        }
        if on_date
        else {"CategoricalDimensionField": {"FieldId": f"{chart.id}-x", "Column": _column(chart.view, chart.x)}}
    )
    value = {
        "NumericalMeasureField": {
            "FieldId": f"{chart.id}-y",
            "Column": _column(chart.view, chart.y),
            "AggregationFunction": {"SimpleNumericalAggregation": chart.aggregation},
        }
    }
    colors = (
        [{"CategoricalDimensionField": {"FieldId": f"{chart.id}-color", "Column": _column(chart.view, chart.color)}}]
        if chart.color
        else []
    )
    wells = {"Category": [category], "Values": [value], "Colors": colors}
    title = {"Visibility": "VISIBLE", "FormatText": {"PlainText": chart.title}}
    if chart.kind == "line":
        return {
            "LineChartVisual": {
                "VisualId": chart.id,
                "Title": title,
                "ChartConfiguration": {"FieldWells": {"LineChartAggregatedFieldWells": wells}, "Type": "LINE"},
            }
        }
    sort: dict[str, Any] = {
        "CategorySort": [
            {"FieldSort": {"FieldId": f"{chart.id}-y" if chart.limit else f"{chart.id}-x", "Direction": chart.order}}
        ]
    }
    if chart.limit:
        sort["CategoryItemsLimit"] = {"ItemsLimit": chart.limit, "OtherCategories": "EXCLUDE"}
    return {
        "BarChartVisual": {
            "VisualId": chart.id,
            "Title": title,
            "ChartConfiguration": {
                "FieldWells": {"BarChartAggregatedFieldWells": wells},
                "SortConfiguration": sort,
                "Orientation": "HORIZONTAL" if chart.kind == "hbar" else "VERTICAL",
                "BarsArrangement": "CLUSTERED",
            },
        }
    }
    # fmt: skip


def _permissions(actions: list[str]) -> list[dict[str, Any]]:
    return [{"Principal": {"Ref": "QuickSightPrincipalArn"}, "Actions": actions}]


def template() -> dict[str, Any]:
    account = {"Ref": "AWS::AccountId"}
    columns = view_columns()
    charted = sorted({chart.view for chart in CHARTS})
    resources: dict[str, Any] = {
        "AthenaSource": {
            "Type": "AWS::QuickSight::DataSource",
            "Properties": {
                "AwsAccountId": account, "DataSourceId": {"Fn::Sub": "${Prefix}-athena"},
                "Name": {"Fn::Sub": "${Prefix} lake (Athena)"}, "Type": "ATHENA",
                # with QuickSightServiceRoleArn, the source queries as that role (the one granted below)
                "DataSourceParameters": {"AthenaParameters": {"WorkGroup": {"Ref": "Workgroup"}, "RoleArn": {
                    "Fn::If": ["DefaultServiceRole", {"Ref": "AWS::NoValue"}, {"Ref": "QuickSightServiceRoleArn"}]}}},
                "SslProperties": {"DisableSsl": False},
                "Permissions": _permissions(SOURCE_READ),
            },
        },
    }  # fmt: skip
    for view in charted:
        resources[f"{_logical(view)}DataSet"] = {
            "Type": "AWS::QuickSight::DataSet",
            "Properties": {
                "AwsAccountId": account, "DataSetId": {"Fn::Sub": f"${{Prefix}}-{view}"}, "Name": view,
                "ImportMode": "DIRECT_QUERY",
                "PhysicalTableMap": {view.replace("_", "-"): {"RelationalTable": {
                    "DataSourceArn": {"Fn::GetAtt": ["AthenaSource", "Arn"]}, "Catalog": "AwsDataCatalog",
                    "Schema": {"Fn::ImportValue": {"Fn::Sub": "${Prefix}-database"}}, "Name": view,
                    "InputColumns": [{"Name": name, "Type": quicksight_type(kind)} for name, kind in columns[view]],
                }}},
                "Permissions": _permissions(DATASET_READ),
            },
        }  # fmt: skip
    types = {view: {name: quicksight_type(kind) for name, kind in columns[view]} for view in charted}
    resources["InsightsDashboard"] = {
        "Type": "AWS::QuickSight::Dashboard",
        "Properties": {
            "AwsAccountId": account, "DashboardId": {"Fn::Sub": "${Prefix}-insights"},
            "Name": {"Fn::Sub": "${Prefix} insights"},
            "Definition": {
                "DataSetIdentifierDeclarations": [
                    {"Identifier": view, "DataSetArn": {"Fn::GetAtt": [f"{_logical(view)}DataSet", "Arn"]}}
                    for view in charted],
                "Sheets": [{"SheetId": "insights", "Name": "Insights",
                            "Visuals": [_visual(chart, types[chart.view]) for chart in CHARTS]}],
            },
            "DashboardPublishOptions": {"AdHocFilteringOption": {"AvailabilityStatus": "ENABLED"},
                                        "ExportToCSVOption": {"AvailabilityStatus": "ENABLED"}},
            "Permissions": _permissions(DASHBOARD_READ),
        },
    }  # fmt: skip
    service_role = {"Fn::If": ["DefaultServiceRole", {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
                                                                 "service-role/aws-quicksight-service-role-v0"},
                               {"Ref": "QuickSightServiceRoleArn"}]}  # fmt: skip
    for name, resource, permissions in (
        ("QuickSightDatabase", _tag_policy("DATABASE", layer="curated"), ["DESCRIBE"]),
        ("QuickSightTables", _tag_policy("TABLE", layer="curated", pii="false"), ["SELECT", "DESCRIBE"]),
    ):
        for logical, grant in _grants(name, service_role, resource, permissions, []).items():
            grant.pop("DependsOn")  # the LF-tags and settings are the governance stack's, made before this one
            resources[logical] = grant
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "spapi-lake BI (optional: spapi-lake deploy --bi ARN): QuickSight on the Athena insight views, "
                       "one dataset per charted view and the insights dashboard, rendered from the views and the "
                       "charts (python -m lake_formation.bi). Builds on the storage and governance stacks.",
        "Parameters": {
            "Prefix": {"Type": "String", "Default": "spapi-lake", "AllowedPattern": "^[a-z0-9-]{3,30}$"},
            "Workgroup": {"Type": "String", "Default": "spapi-lake-analysts",
                          "Description": "The governance stack's Athena workgroup."},
            "QuickSightPrincipalArn": {"Type": "String", "Description": "The QuickSight user or group the data "
                                       "source, datasets and dashboard are shared with "
                                       "(arn:aws:quicksight:<region>:<account>:user/default/<name>)."},
            "QuickSightServiceRoleArn": {"Type": "String", "Default": "",
                                         "Description": "The role QuickSight queries Athena with (empty: "
                                         "service-role/aws-quicksight-service-role-v0)."},
        },
        "Conditions": {"DefaultServiceRole": {"Fn::Equals": [{"Ref": "QuickSightServiceRoleArn"}, ""]}},
        "Resources": resources,
        "Outputs": {"DashboardId": {"Value": {"Fn::Sub": "${Prefix}-insights"}}},
    }  # fmt: skip


def template_yaml() -> str:
    header = "# Rendered from the views and charts by `python -m lake_formation.bi`: do not edit by hand.\n"
    return header + yaml.dump(template(), Dumper=_NoAliases, sort_keys=False, width=120)


if __name__ == "__main__":
    sys.stdout.write(template_yaml())
