"""Registry types → Spark types (the Spark renderer of the schema registry)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pyspark.sql import types as T  # noqa: N812

from glue_jobs.errors import UnsupportedTypeError

if TYPE_CHECKING:
    from lake_formation.registry import Dataset

_SIMPLE: dict[str, T.DataType] = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")


def spark_type(registry_type: str) -> T.DataType:
    if match := _DECIMAL.match(registry_type):
        return T.DecimalType(int(match.group(1)), int(match.group(2)))
    try:
        return _SIMPLE[registry_type]
    except KeyError:
        raise UnsupportedTypeError(f"no Spark type for registry type {registry_type!r}") from None


def curated_schema(dataset: Dataset) -> T.StructType:
    """The curated table's schema, data columns then partition columns (the order Spark writes them)."""
    ordered = dataset.data_columns + dataset.partition_columns
    return T.StructType([T.StructField(c.name, spark_type(c.type), c.nullable) for c in ordered])
