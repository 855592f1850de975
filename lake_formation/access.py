"""Lake Formation's column-level access decision, as Athena applies it, from what the Lake Formation API returns:
the permissions (ListPermissions), the LF-tags of the database, the table and each column (GetResourceLFTags) and
the data lake settings. moto stores all of these and enforces none; the offline query layer asks this module.

Written by hand because no library evaluates Lake Formation grants (AWS does it inside the service). The rules
followed, from the Lake Formation developer guide:
- a column's LF-tags are the database's, overridden key by key by the table's, overridden by the column's own;
- an LF-tag policy grant on TABLE matches a column when, for every key of its expression, the column's value for
  that key is one of the expression's values;
- a named-resource grant (Table, TableWithColumns) matches the table's columns it names (all, the listed ones, or
  all but the excluded ones); TableWildcard matches every table of its database;
- SELECT (or ALL) is what reading a column needs; data lake admins have no implicit SELECT (they may grant it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Tags = Mapping[str, Sequence[str]]  # LF-tag key → values
# The group a grant to which every principal holds (IAM alone decides): Lake Formation's default on a database or
# table created without its settings; the governance stack leaves none, and any left would show here.
IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"


def tags_of(assigned: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """GetResourceLFTags' [{TagKey, TagValues}, ...] as key → values."""
    return {str(tag["TagKey"]): list(tag["TagValues"]) for tag in assigned}


def effective_tags(database: Tags, table: Tags, column: Tags) -> dict[str, list[str]]:
    """A column's LF-tags: inherited from its database and table, the nearer assignment winning per key."""
    return {key: list(values) for key, values in {**database, **table, **column}.items()}


@dataclass(frozen=True)
class TableTags:
    """The LF-tags of one table's database, the table and its columns."""

    database: str
    table: str
    columns: tuple[str, ...]
    database_tags: Tags
    table_tags: Tags
    column_tags: Mapping[str, Tags]

    def of(self, column: str) -> dict[str, list[str]]:
        return effective_tags(self.database_tags, self.table_tags, self.column_tags.get(column, {}))


def _matches_expression(expression: Sequence[Mapping[str, Any]], tags: Tags) -> bool:
    return all(set(tags.get(str(item["TagKey"]), ())) & set(item["TagValues"]) for item in expression)


def _granted_columns(resource: Mapping[str, Any], table: TableTags) -> set[str]:
    """The columns of `table` a permission's resource covers."""
    if "LFTagPolicy" in resource:
        policy = resource["LFTagPolicy"]
        if policy.get("ResourceType") != "TABLE":
            return set()
        return {c for c in table.columns if _matches_expression(policy["Expression"], table.of(c))}
    named = resource.get("Table") or resource.get("TableWithColumns")
    if named is None or named.get("DatabaseName") != table.database:
        return set()
    if named.get("Name") != table.table and "TableWildcard" not in named:
        return set()
    if "ColumnNames" in named:
        return set(named["ColumnNames"]) & set(table.columns)
    excluded = set(named.get("ColumnWildcard", {}).get("ExcludedColumnNames", []))
    return set(table.columns) - excluded


def _select_grants(principal: str, permissions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The permissions that let the principal read: SELECT or ALL, granted to it or to IAMAllowedPrincipals."""
    return [p for p in permissions
            if p["Principal"]["DataLakePrincipalIdentifier"] in (principal, IAM_ALLOWED_PRINCIPALS)
            and {"SELECT", "ALL"} & set(p.get("Permissions", []))]  # fmt: skip


def selectable_columns(principal: str, permissions: Sequence[Mapping[str, Any]], table: TableTags) -> list[str]:
    """The columns of `table` the principal may SELECT, in the table's order."""
    allowed: set[str] = set()
    for permission in _select_grants(principal, permissions):
        allowed |= _granted_columns(permission["Resource"], table)
    return [c for c in table.columns if c in allowed]


def grants_for(principal: str, permissions: Sequence[Mapping[str, Any]]) -> list[str]:
    """The principal's SELECT grants, in words (for a refusal to name what the principal has)."""
    described = []
    for permission in _select_grants(principal, permissions):
        resource = permission["Resource"]
        if "LFTagPolicy" in resource:
            expression = " AND ".join(f"{item['TagKey']}={'|'.join(item['TagValues'])}"
                                      for item in resource["LFTagPolicy"]["Expression"])  # fmt: skip
            described.append(f"SELECT on tables tagged {expression}")
        else:
            described.append(f"SELECT on {resource}")
    return described
