"""QuickSight as code (cloudformation/bi.yaml): rendered from the views and the charts, and checked without AWS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from deployment.templates import TEMPLATES, load
from lake_formation import bi, views
from local.insights_page import CHARTS


def _of_type(kind: str) -> dict[str, dict]:
    return {k: r["Properties"] for k, r in load("bi.yaml")["Resources"].items() if r["Type"] == kind}


def test_the_committed_template_is_the_rendering():
    assert (TEMPLATES / "bi.yaml").read_text() == bi.template_yaml()


def test_cfn_lint_passes_on_the_warehouse_and_bi_templates():
    result = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATES / "warehouse.yaml"), str(TEMPLATES / "bi.yaml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dataset_reads_a_view_that_exists_with_its_documented_columns():
    datasets = _of_type("AWS::QuickSight::DataSet")
    assert datasets
    for properties in datasets.values():
        ((table,),) = [[t["RelationalTable"] for t in properties["PhysicalTableMap"].values()]]
        view = views.load_all().get(table["Name"])
        assert view is not None, f"{table['Name']} is not an insight view"
        # the view's header (written by hand) documents its output columns, in order
        assert [c["Name"] for c in table["InputColumns"]] == list(view.doc.columns)
        assert table["Catalog"] == "AwsDataCatalog"


def test_the_dashboard_draws_the_insights_pages_charts_from_the_views_columns():
    (dashboard,) = _of_type("AWS::QuickSight::Dashboard").values()
    (sheet,) = dashboard["Definition"]["Sheets"]
    visuals = {next(iter(v.values()))["VisualId"]: next(iter(v.values())) for v in sheet["Visuals"]}
    assert set(visuals) == set(CHARTS)  # the same charts as out/insights.html
    declared = {d["Identifier"] for d in dashboard["Definition"]["DataSetIdentifierDeclarations"]}
    for chart_id, visual in visuals.items():
        wells = next(iter(visual["ChartConfiguration"]["FieldWells"].values()))
        fields = [next(iter(f.values()))["Column"] for well in wells.values() for f in well]
        for column in fields:
            assert column["DataSetIdentifier"] in declared
            assert column["ColumnName"] in views.load_all()[column["DataSetIdentifier"]].doc.columns, chart_id
        assert visual["Title"]["FormatText"]["PlainText"] == CHARTS[chart_id]


def test_quicksights_role_reads_what_the_analyst_reads_and_no_pii():
    grants = _of_type("AWS::LakeFormation::PrincipalPermissions")
    expressions = {
        tuple(sorted((t["TagKey"], *t["TagValues"]) for t in g["Resource"]["LFTagPolicy"]["Expression"])):
        g["Permissions"] for g in grants.values() if g["Resource"]["LFTagPolicy"]["ResourceType"] == "TABLE"
    }  # fmt: skip
    assert expressions.keys() == {(("layer", "curated"), ("pii", "false"))}
    assert sorted(p for g in grants.values() for p in g["Permissions"]) == ["DESCRIBE", "DESCRIBE", "SELECT"]
