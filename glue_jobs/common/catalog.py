"""Register curated tables and partitions in the Glue Data Catalog with plain boto3 calls (same on moto and Glue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glue_jobs.errors import CatalogRegistrationError
from lake_formation.render import glue_partition_input, glue_table_input

if TYPE_CHECKING:
    from lake_formation.registry import Dataset

PARTITIONS_PER_CALL = 100  # batch_create_partition's limit


def ensure_database(glue: Any, database: str, description: str = "SP-API curated data") -> None:
    try:
        glue.get_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(DatabaseInput={"Name": database, "Description": description})


def register_table(glue: Any, database: str, dataset: Dataset, location: str) -> None:
    """Create the table from the registry, or update it so the catalog always matches the registry."""
    ensure_database(glue, database)
    table_input = glue_table_input(dataset, location)
    try:
        glue.get_table(DatabaseName=database, Name=dataset.table)
    except glue.exceptions.EntityNotFoundException:
        glue.create_table(DatabaseName=database, TableInput=table_input)
    else:
        glue.update_table(DatabaseName=database, TableInput=table_input)


def register_partitions(
    glue: Any, database: str, dataset: Dataset, location: str, partitions: list[dict[str, str]]
) -> int:
    """Add partitions the catalog does not have yet; returns how many were added.

    Raises:
        CatalogRegistrationError: the catalog refused partitions for another reason than that they exist.
    """
    existing: set[tuple[str, ...]] = set()
    paginator = glue.get_paginator("get_partitions")
    for page in paginator.paginate(DatabaseName=database, TableName=dataset.table):
        existing.update(tuple(p["Values"]) for p in page["Partitions"])
    new = [p for p in partitions if tuple(p[name] for name in dataset.partitions) not in existing]
    for start in range(0, len(new), PARTITIONS_PER_CALL):
        batch = [glue_partition_input(dataset, location, values) for values in new[start : start + PARTITIONS_PER_CALL]]
        response = glue.batch_create_partition(DatabaseName=database, TableName=dataset.table, PartitionInputList=batch)
        errors = [e for e in response.get("Errors", []) if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"]
        if errors:
            raise CatalogRegistrationError(f"batch_create_partition failed for {dataset.table}: {errors[:3]}")
    return len(new)


def unregister_partitions(glue: Any, database: str, dataset: Dataset, partitions: list[dict[str, str]]) -> None:
    """Remove partitions the curated zone no longer holds (a restated window in which Amazon reports nothing)."""
    values = [{"Values": [p[name] for name in dataset.partitions]} for p in partitions]
    for start in range(0, len(values), 25):  # batch_delete_partition's limit
        response = glue.batch_delete_partition(DatabaseName=database, TableName=dataset.table,
                                               PartitionsToDelete=values[start : start + 25])  # fmt: skip
        errors = [e for e in response.get("Errors", []) if e["ErrorDetail"]["ErrorCode"] != "EntityNotFoundException"]
        if errors:  # a partition never registered is already gone; anything else is an error, as in registration
            raise CatalogRegistrationError(f"batch_delete_partition failed for {dataset.table}: {errors[:3]}")
