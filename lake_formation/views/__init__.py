"""The insight views: the analysts' questions in Athena SQL over the curated tables, one `<name>.sql` file each.

Each file opens with a YAML block in a comment that documents the view (jaffle-shop style), then the SELECT:

    /* ---
    description: what the view answers
    grain: [the columns one row is unique on]
    columns: {name: what it holds, ...}   (every output column, in order)
    --- */
    SELECT ...

On AWS the views are created in the Glue Data Catalog through the Athena workgroup (`CREATE OR REPLACE VIEW`,
`spapi-lake deploy`); offline the same SQL is transpiled to DuckDB by sqlglot (Athena dialect) and created over the
catalog's tables. The files are package data, read through importlib.resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from graphlib import TopologicalSorter
from importlib import resources

import sqlglot
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlglot import expressions

from lake_formation.errors import RegistryError

HEADER = re.compile(r"\A/\* ---\n(?P<yaml>.*?)\n--- \*/\n(?P<sql>.*)\Z", re.DOTALL)


class ViewDoc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str
    grain: list[str]
    columns: dict[str, str]


@dataclass(frozen=True)
class View:
    name: str
    doc: ViewDoc
    sql: str  # Athena SQL: the SELECT

    @cached_property
    def tables(self) -> set[str]:
        """The tables and views the query reads (common table expressions left out)."""
        tree = sqlglot.parse_one(self.sql, read="athena")
        ctes = {cte.alias for cte in tree.find_all(expressions.CTE)}
        return {table.name for table in tree.find_all(expressions.Table)} - ctes

    @cached_property
    def duckdb_sql(self) -> str:
        return sqlglot.transpile(self.sql, read="athena", write="duckdb")[0]

    def create_statement(self, database: str) -> str:
        """The Athena DDL that creates the view in the Glue Data Catalog."""
        return f'CREATE OR REPLACE VIEW "{database}"."{self.name}" AS\n{self.sql.strip()}'


@cache
def load_all() -> dict[str, View]:
    found = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        match = HEADER.match(entry.read_text(encoding="utf-8"))
        if match is None:
            raise RegistryError(f"views/{entry.name}: must open with a '/* ---' YAML block closed by '--- */'")
        try:
            doc = ViewDoc.model_validate(yaml.safe_load(match["yaml"]))
        except ValidationError as err:
            raise RegistryError(f"views/{entry.name}: {err}") from err
        if missing := [g for g in doc.grain if g not in doc.columns]:
            raise RegistryError(f"views/{entry.name}: grain names undocumented columns {missing}")
        name = entry.name.removesuffix(".sql")
        found[name] = View(name, doc, match["sql"])
    return found


def in_dependency_order() -> list[View]:
    """Views before the views that read them."""
    views = load_all()
    order = TopologicalSorter({v.name: v.tables & set(views) for v in views.values()}).static_order()
    return [views[name] for name in order]
