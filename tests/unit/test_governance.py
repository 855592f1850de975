"""Lake Formation as code: the governance template is the registry's rendering, its grants keep PII from analysts
under Lake Formation's rules, and the insight views read only what the registry declares."""

import duckdb
import pytest
import sqlglot
from sqlglot.optimizer.qualify import qualify

from deployment.templates import TEMPLATES, load
from lake_formation import governance, registry, views
from lake_formation.access import TableTags, effective_tags, selectable_columns
from lake_formation.errors import RegistryError
from local.governed import AccessDeniedError, LakeGrants, QueryError, TableEntry

ANALYST, ADMIN = "arn:aws:iam::1:role/analyst", "arn:aws:iam::1:role/admin"


def test_the_committed_template_is_the_registrys_rendering():
    assert (TEMPLATES / "governance.yaml").read_text() == governance.template_yaml()


def test_every_pii_column_of_the_registry_is_tagged_pii_true_and_only_those():
    tagged: dict[str, set[str]] = {}
    for resource in load("governance.yaml")["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::LakeFormation::TagAssociation" or "TableWithColumns" not in properties["Resource"]:
            continue
        assert properties["LFTags"][0]["TagValues"] == ["true"]
        target = properties["Resource"]["TableWithColumns"]
        assert len(target["ColumnNames"]) == 1  # one association per column (see governance.py)
        tagged.setdefault(target["Name"], set()).update(target["ColumnNames"])
    pii = {d.table: {c.name for c in d.columns if c.pii} for d in registry.load_all().values()}
    assert tagged == {table: columns for table, columns in pii.items() if columns}
    assert {"buyer_name", "buyer_email", "ship_address_1"} <= tagged["fulfilled_shipments"]


def test_every_grant_waits_for_the_tags_and_settings_it_needs():
    resources = load("governance.yaml")["Resources"]
    for logical, resource in resources.items():
        if resource["Type"] in ("AWS::LakeFormation::PrincipalPermissions", "AWS::LakeFormation::TagAssociation"):
            assert resource.get("DependsOn"), logical
            assert all(d in resources for d in resource["DependsOn"]), logical
    settings = resources["LakeSettings"]["Properties"]
    # IAMAllowedPrincipals no longer gets ALL on new databases and tables; existing admins are kept
    assert settings["CreateDatabaseDefaultPermissions"] == settings["CreateTableDefaultPermissions"] == []
    assert settings["MutationType"] == "APPEND"


def shipments_tags(column_tags=None, table_tags=None):
    columns = ("amazon_order_id", "buyer_name", "sku", "marketplace_id")
    return TableTags(
        "lake",
        "fulfilled_shipments",
        columns,
        {"layer": ["curated"], "pii": ["false"]},
        table_tags or {"domain": ["orders"]},
        column_tags or {"buyer_name": {"pii": ["true"]}},
    )


def tag_grant(principal, permissions, **expression):
    terms = [{"TagKey": k, "TagValues": [v]} for k, v in expression.items()]
    resource = {"LFTagPolicy": {"ResourceType": "TABLE", "Expression": terms}}
    return {"Principal": {"DataLakePrincipalIdentifier": principal}, "Resource": resource, "Permissions": permissions}


def test_a_columns_own_tag_overrides_the_one_it_inherits():
    assert effective_tags({"pii": ["false"], "layer": ["curated"]}, {"pii": ["true"]}, {}) == {
        "pii": ["true"], "layer": ["curated"]}  # fmt: skip
    assert shipments_tags().of("buyer_name") == {"layer": ["curated"], "pii": ["true"], "domain": ["orders"]}


def test_the_analysts_tag_grant_leaves_out_the_pii_column_and_the_admins_does_not():
    grants = [tag_grant(ANALYST, ["SELECT", "DESCRIBE"], layer="curated", pii="false"),
              tag_grant(ADMIN, ["SELECT"], layer="curated")]  # fmt: skip
    assert selectable_columns(ANALYST, grants, shipments_tags()) == ["amazon_order_id", "sku", "marketplace_id"]
    assert selectable_columns(ADMIN, grants, shipments_tags()) == list(shipments_tags().columns)


def test_a_table_tagged_pii_hides_every_column_but_those_tagged_otherwise():
    grants = [tag_grant(ANALYST, ["SELECT"], layer="curated", pii="false")]
    tags = shipments_tags(column_tags={"sku": {"pii": ["false"]}}, table_tags={"pii": ["true"]})
    assert selectable_columns(ANALYST, grants, tags) == ["sku"]


def test_describe_alone_reads_nothing_and_named_grants_read_what_they_name():
    tags = shipments_tags()
    assert selectable_columns(ANALYST, [tag_grant(ANALYST, ["DESCRIBE"], layer="curated")], tags) == []
    named = {
        "Principal": {"DataLakePrincipalIdentifier": ANALYST},
        "Permissions": ["SELECT"],
        "Resource": {
            "TableWithColumns": {
                "DatabaseName": "lake",
                "Name": "fulfilled_shipments",
                "ColumnWildcard": {"ExcludedColumnNames": ["buyer_name", "sku"]},
            }
        },
    }
    assert selectable_columns(ANALYST, [named], tags) == ["amazon_order_id", "marketplace_id"]
    other_table = {**named, "Resource": {"Table": {"DatabaseName": "lake", "Name": "orders"}}}
    assert selectable_columns(ANALYST, [other_table], tags) == []
    assert selectable_columns(ADMIN, [named], tags) == []  # a grant is the principal's own


def catalog_schema() -> dict:
    """Tables and their column types as the registry declares them, plus each view's documented columns."""
    schema = {d.table: {c.name: c.type for c in d.columns} for d in registry.load_all().values()}
    return schema | {v.name: dict.fromkeys(v.doc.columns, "string") for v in views.load_all().values()}


@pytest.mark.parametrize("name", sorted(views.load_all()))
def test_each_view_reads_only_declared_columns_and_returns_the_documented_ones(name):
    view = views.load_all()[name]
    tree = qualify(sqlglot.parse_one(view.sql, read="athena"), schema=catalog_schema(), dialect="athena",
                   validate_qualify_columns=True)  # fmt: skip
    assert tree.named_selects == list(view.doc.columns)
    assert view.tables <= set(registry.load_all()) | set(views.load_all())
    assert set(view.doc.grain) <= set(view.doc.columns)


def test_a_view_without_its_header_is_refused(tmp_path, monkeypatch):
    (tmp_path / "broken.sql").write_text("SELECT 1\n")
    monkeypatch.setattr(views.resources, "files", lambda _: tmp_path)
    views.load_all.cache_clear()
    try:
        with pytest.raises(RegistryError, match="broken.sql"):
            views.load_all()
    finally:
        views.load_all.cache_clear()


def test_a_grant_left_to_iam_allowed_principals_opens_every_column_to_everyone():
    # what the storage database's default would do if the deployment did not revoke it
    default = {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}, "Permissions": ["ALL"],
               "Resource": {"Table": {"DatabaseName": "lake", "TableWildcard": {}}}}  # fmt: skip
    assert selectable_columns(ANALYST, [default], shipments_tags()) == list(shipments_tags().columns)


def small_lake():
    """A lake of one table, orders(id, ship_city), its ship_city tagged pii=true, with the analyst's tag grant."""
    columns = [{"Name": "id", "Type": "int"}, {"Name": "ship_city", "Type": "string"}]
    entry = TableEntry(["id", "ship_city"], {"layer": ["curated"], "pii": ["false"]}, {},
                       {"ship_city": {"pii": ["true"]}}, {"Name": "orders", "StorageDescriptor": {"Columns": columns}},
                       has_data=True)  # fmt: skip
    grants = LakeGrants("lake", {"analyst": ANALYST, "admin": ADMIN, "curation": "-"},
                        [tag_grant(ANALYST, ["SELECT"], layer="curated", pii="false"),
                         tag_grant(ADMIN, ["SELECT"], layer="curated")], {"orders": entry})  # fmt: skip
    con = duckdb.connect()
    con.sql("CREATE TABLE data AS SELECT 1 AS id, 'Leeds' AS ship_city")
    return grants, con


def test_the_offline_layer_shows_a_role_only_its_columns_and_refuses_the_rest():
    grants, con = small_lake()
    analyst = grants.open(con, "analyst", lambda name, entry: "main.data")
    assert analyst.query("SELECT * FROM orders").fetchall() == [(1,)]
    with pytest.raises(
        AccessDeniedError, match=r"analyst has no SELECT on lake\.orders\.ship_city \(tagged .*pii=true"
    ):
        analyst.query("SELECT o.ship_city FROM orders o")
    for bypass in (
        "SELECT * FROM main.data",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM memory.main.data",
    ):
        with pytest.raises(AccessDeniedError):
            analyst.query(bypass)
    for statement in ("COPY (SELECT 1) TO '/tmp/x.csv'", "DROP VIEW orders", "SELECT 1; SELECT 2"):
        with pytest.raises(QueryError):
            analyst.query(statement)
    admin = grants.open(duckdb.connect(), "admin", lambda name, entry: "(SELECT 1 AS id, 'Leeds' AS ship_city)")
    assert admin.query("SELECT ship_city FROM orders").fetchall() == [("Leeds",)]
