"""The offline Athena with Lake Formation's grants applied: what a role may see of the lake, read from the Lake
Formation API (moto stores the grants the governance stack declares, and enforces none), then a DuckDB schema in
which each table is a view of the role's selectable columns only, and the insight views are created over those.

As on Athena with Lake Formation: `SELECT *` returns the columns the role may read; naming a column it may not read
is refused, with the grants the role has; a table with no selectable column is not there for the role.

`LakeGrants` is read once from the live API (`read`) and can be saved with the demo's DuckDB file (`to_json`), so
`spapi-lake query` applies the same grants after the offline world is gone.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import expressions
from sqlglot.errors import SqlglotError

from lake_formation import views
from lake_formation.access import TableTags, grants_for, selectable_columns, tags_of
from lake_formation.governance import ROLE_OUTPUTS
from lake_formation.render import empty_source
from local.query import catalog_tables, has_data, parquet_source

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

# DuckDB's two ways of saying a column is not there: unqualified, and qualified by its table or alias.
MISSING_COLUMN = re.compile(
    r'Referenced column "(?P<column>[^"]+)" not found|does not have a column named "(?P<named>[^"]+)"'
)


class QueryError(Exception):
    """A query that does not parse or run: the engine's message, no traceback."""


class AccessDeniedError(QueryError):
    """The query names a column or table the role has no SELECT on."""


@dataclass
class TableEntry:
    columns: list[str]  # data columns, then partition keys (the catalog's order)
    database_tags: dict[str, list[str]]
    table_tags: dict[str, list[str]]
    column_tags: dict[str, dict[str, list[str]]]
    catalog: dict[str, Any]  # the Glue table, as GetTables returned it (location, types)
    has_data: bool

    def tags(self, database: str, name: str) -> TableTags:
        return TableTags(database, name, tuple(self.columns), self.database_tags, self.table_tags, self.column_tags)


@dataclass
class LakeGrants:
    database: str
    principals: dict[str, str]  # role (analyst, admin, curation) → its IAM role ARN
    permissions: list[dict[str, Any]]
    tables: dict[str, TableEntry] = field(default_factory=dict)

    @classmethod
    def read(cls, lakeformation: Any, glue: Any, database: str, outputs: Mapping[str, str]) -> LakeGrants:
        """What the Lake Formation and Glue APIs hold for the database; the roles' ARNs from the stack outputs."""
        permissions: list[dict[str, Any]] = []
        token: dict[str, str] = {}
        while True:
            page = lakeformation.list_permissions(**token)
            permissions += page["PrincipalResourcePermissions"]
            if not page.get("NextToken"):
                break
            token = {"NextToken": page["NextToken"]}
        grants = cls(database, {role: outputs[output] for role, output in ROLE_OUTPUTS.items()}, permissions)
        database_tags = tags_of(lakeformation.get_resource_lf_tags(Resource={"Database": {"Name": database}})
                                .get("LFTagOnDatabase", []))  # fmt: skip
        for table in catalog_tables(glue, database):
            name = table["Name"]
            columns = [c["Name"] for c in table["StorageDescriptor"]["Columns"] + table.get("PartitionKeys", [])]
            assigned = lakeformation.get_resource_lf_tags(
                Resource={"TableWithColumns": {"DatabaseName": database, "Name": name, "ColumnNames": columns}}
            )
            table_tags = lakeformation.get_resource_lf_tags(
                Resource={"Table": {"DatabaseName": database, "Name": name}}
            ).get("LFTagsOnTable", [])
            grants.tables[name] = TableEntry(
                columns, database_tags, tags_of(table_tags),
                {c["Name"]: tags_of(c["LFTags"]) for c in assigned.get("LFTagsOnColumns", [])},
                {k: table[k] for k in ("Name", "Description", "StorageDescriptor", "PartitionKeys") if k in table},
                has_data(glue, database, name),
            )  # fmt: skip
        return grants

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, indent=1)

    @classmethod
    def from_json(cls, text: str) -> LakeGrants:
        document = json.loads(text)
        tables = {name: TableEntry(**entry) for name, entry in document.pop("tables").items()}
        return cls(**document, tables=tables)

    def principal(self, role: str) -> str:
        if role not in self.principals:
            raise AccessDeniedError(f"unknown role {role!r}; the lake's roles: {', '.join(sorted(self.principals))}")
        return self.principals[role]

    def selectable(self, role: str, table: str) -> list[str]:
        entry = self.tables[table]
        return selectable_columns(self.principal(role), self.permissions, entry.tags(self.database, table))

    def open(self, con: duckdb.DuckDBPyConnection, role: str, source: Callable[[str, TableEntry], str]) -> Session:
        """Create, in `con`, the role's view of the lake: schema `<database>` with one view per table the role
        can read (its selectable columns), then the insight views whose columns the role can read."""
        con.sql(f'CREATE SCHEMA IF NOT EXISTS "{self.database}"')
        con.sql(f'SET schema = "{self.database}"')
        session = Session(self, role, con)
        for name, entry in sorted(self.tables.items()):
            columns = self.selectable(role, name)
            session.hidden[name] = [c for c in entry.columns if c not in columns]
            if not columns:
                continue
            selected = ", ".join(f'"{c}"' for c in columns)
            con.sql(
                f'CREATE OR REPLACE VIEW "{self.database}"."{name}" AS SELECT {selected} FROM {source(name, entry)}'
            )
            session.tables.append(name)
        for view in views.in_dependency_order():
            try:
                con.sql(f'CREATE OR REPLACE VIEW "{self.database}"."{view.name}" AS {view.duckdb_sql}')
            except duckdb.Error as err:
                session.refused_views[view.name] = session.explain(err)
            else:
                session.views.append(view.name)
        return session


def s3_source(name: str, entry: TableEntry) -> str:
    """Tables read from the curated zone (the live offline world)."""
    return parquet_source(entry.catalog) if entry.has_data else empty_source(entry.catalog)


def file_source(attached: str) -> Callable[[str, TableEntry], str]:
    """Tables read from the DuckDB file the demo leaves (attached under `attached`)."""

    def source(name: str, entry: TableEntry) -> str:
        return f'{attached}."{name}"' if entry.has_data else empty_source(entry.catalog)

    return source


@dataclass
class Session:
    """One role's view of the lake in a DuckDB connection."""

    grants: LakeGrants
    role: str
    con: duckdb.DuckDBPyConnection
    tables: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    hidden: dict[str, list[str]] = field(default_factory=dict)  # table → columns the role may not read
    refused_views: dict[str, str] = field(default_factory=dict)

    def explain(self, err: duckdb.Error, reads: set[str] | None = None) -> str:
        """A refusal naming the column and the grants the role has, when the error is a hidden column; else the
        engine's own message."""
        match = MISSING_COLUMN.search(str(err))
        if match:
            column = match.group("column") or match.group("named")
            owners = [t for t, hidden in self.hidden.items() if column in hidden]
            owners = [t for t in owners if t in reads] or owners if reads else owners  # the query's tables first
            if owners:
                have = "; ".join(grants_for(self.grants.principal(self.role), self.grants.permissions)) or "none"
                tagged = self.grants.tables[owners[0]].tags(self.grants.database, owners[0]).of(column)
                tags = ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(tagged.items()))
                return (f"{self.role} has no SELECT on {self.grants.database}.{owners[0]}.{column} (tagged {tags}); "
                        f"its grants: {have}")  # fmt: skip
        return str(err).splitlines()[0]

    def _check_reads(self, tree: expressions.Expr) -> None:
        """Only a query, and only over the lake's tables and views by their names: not a file, a table function,
        another database attached to the connection, or a statement that writes (none of which Athena's grants
        would let through either)."""
        if not isinstance(tree, expressions.Query):
            raise QueryError(f"only queries run here, not {tree.key.upper()}")
        for table in tree.find_all(expressions.Table):
            if not isinstance(table.this, expressions.Identifier):
                raise AccessDeniedError(f"{self.role} reads the lake's tables by name, not {table.this.sql()}")
            if table.catalog or (table.db and table.db != self.grants.database):
                raise AccessDeniedError(f"{self.role} has no SELECT on {table.sql()}: not a table of "
                                        f"{self.grants.database}")  # fmt: skip

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The query's rows as column → value."""
        relation = self.query(sql)
        names = [d[0] for d in relation.description]
        return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]

    def query(self, sql: str) -> duckdb.DuckDBPyRelation:
        """Athena SQL, transpiled to DuckDB, as this role.

        Raises:
            AccessDeniedError: the query names a column the role may not read.
            QueryError: the query does not parse or fails.
        """
        try:
            statements = sqlglot.parse(sql, read="athena")
        except SqlglotError as err:
            raise QueryError(f"not Athena SQL: {str(err).splitlines()[0]}") from None
        if len(statements) != 1 or statements[0] is None:
            raise QueryError(f"one statement at a time ({len(statements)} given)")
        self._check_reads(statements[0])
        try:
            return self.con.sql(statements[0].sql(dialect="duckdb"))
        except duckdb.Error as err:
            message = self.explain(err, {t.name for t in statements[0].find_all(expressions.Table)})
            raise (AccessDeniedError if " has no SELECT on " in message else QueryError)(message) from None


def grants_file(duckdb_file: Path) -> Path:
    """Where the demo leaves the grants beside its DuckDB file (spapi_lake.duckdb → spapi_lake.grants.json)."""
    return duckdb_file.with_name(f"{duckdb_file.stem}.grants.json")


def offline_session(duckdb_file: Path, role: str) -> Session:
    """A role's view of the lake the demo or the simulation left: its DuckDB file and the grants saved beside it.

    Raises:
        QueryError: no lake there (run `make demo` first).
    """
    if not duckdb_file.is_file() or not grants_file(duckdb_file).is_file():
        raise QueryError(f"no lake at {duckdb_file} (and {grants_file(duckdb_file).name}): run `make demo` first")
    try:
        grants = LakeGrants.from_json(grants_file(duckdb_file).read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as err:
        raise QueryError(f"{grants_file(duckdb_file)}: not the grants the demo saves ({err})") from None
    con = duckdb.connect()
    try:
        con.sql(f"ATTACH '{duckdb_file}' AS lake (READ_ONLY)")
    except duckdb.Error as err:
        raise QueryError(f"{duckdb_file}: {str(err).splitlines()[0]}") from None
    return grants.open(con, role, file_source("lake"))


def listing(session: Session) -> list[tuple[str, str, str]]:
    """(kind, name, description) of every table and view the session's role can read."""
    items = [("table", name, str(session.grants.tables[name].catalog.get("Description", "")))
             for name in session.tables]  # fmt: skip
    all_views = views.load_all()
    items += [("view", name, " ".join(all_views[name].doc.description.split())) for name in session.views]
    return items
