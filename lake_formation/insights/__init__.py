"""The analysts' questions, answered in Athena SQL over the curated tables: one `<name>.sql` file each, whose first
line is `-- title: <what it answers>`. Athena runs them as written; offline they are transpiled to DuckDB (sqlglot).
The files are package data, read through importlib.resources (they ship in the zips as well)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import sqlglot
from sqlglot import expressions

from lake_formation.errors import RegistryError


@dataclass(frozen=True)
class Insight:
    name: str
    title: str
    sql: str  # Athena SQL

    @property
    def tables(self) -> set[str]:
        """The tables the query reads."""
        return {table.name for table in sqlglot.parse_one(self.sql, read="athena").find_all(expressions.Table)}


@cache
def load_all() -> dict[str, Insight]:
    insights = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text(encoding="utf-8")
        first, _, _ = text.partition("\n")
        if not first.startswith("-- title: "):
            raise RegistryError(f"insights/{entry.name}: the first line must be '-- title: ...'")
        name = entry.name.removesuffix(".sql")
        insights[name] = Insight(name, first.removeprefix("-- title: ").strip(), text)
    return insights
