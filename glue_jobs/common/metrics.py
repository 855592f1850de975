"""The Glue jobs' custom CloudWatch metrics, declared once, and put with boto3.

Glue runs no EMF agent, so a job calls `cloudwatch:PutMetricData` itself (the jobs' roles grant it for this namespace
and Glue's own). The namespace and the `service` dimension are the Lambda functions' (ingestion_lambdas/metrics.py
is not in the Glue package; tests/unit/test_operations.py checks the two declarations agree and that every alarm in
cloudformation/operations.yaml names a metric one of them declares).

Example:
    >>> put_dataset_run(cloudwatch, "orders", blocked=True)
    # SpApiLake DatasetsBlocked = 1 by {service} and by {service, Dataset=orders}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NAMESPACE = "SpApiLake"
SERVICE = "spapi-lake"
SERVICE_DIMENSION = "service"


@dataclass(frozen=True)
class Metric:
    """One custom metric and the series it is put to: each dimension set, always with `service` first."""

    name: str
    unit: str
    dimension_sets: tuple[tuple[str, ...], ...] = ((),)
    description: str = ""

    @property
    def dimensions(self) -> frozenset[str]:
        return frozenset(name for names in self.dimension_sets for name in names)

    def series(self) -> tuple[tuple[str, ...], ...]:
        return tuple((SERVICE_DIMENSION, *names) for names in self.dimension_sets)


DATASETS_BLOCKED = Metric(
    "DatasetsBlocked",
    "Count",
    ((), ("Dataset",)),
    "a curation run whose batch failed its expectation suite: nothing published, its objects wait (1), or one that "
    "passed or had nothing new (0)",
)
UNREADABLE_OBJECTS = Metric(
    "UnreadableObjects", "Count", ((), ("Dataset",)), "raw objects a curation run could not parse (left pending)"
)
METRICS = (DATASETS_BLOCKED, UNREADABLE_OBJECTS)


def put(cloudwatch: Any, metric: Metric, value: float, now: datetime | None = None, **dimensions: str) -> None:
    """Put one value of `metric` to each of its series, in one PutMetricData call.

    Raises:
        ValueError: `dimensions` are not exactly the metric's declared dimensions.
    """
    if set(dimensions) != metric.dimensions:
        raise ValueError(f"{metric.name} takes dimensions {sorted(metric.dimensions)}, not {sorted(dimensions)}")
    timestamp = now or datetime.now(UTC)
    data = [
        {
            "MetricName": metric.name,
            "Dimensions": [{"Name": SERVICE_DIMENSION, "Value": SERVICE}]
            + [{"Name": name, "Value": dimensions[name]} for name in names],
            "Timestamp": timestamp,
            "Value": float(value),
            "Unit": metric.unit,
        }
        for names in metric.dimension_sets
    ]
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)


def put_dataset_run(cloudwatch: Any, dataset: str, *, blocked: bool, unreadable: int = 0) -> None:
    """A curation run's metrics: whether its suite blocked the dataset (0 when not, so the alarm sees every run), and
    how many objects it could not read."""
    put(cloudwatch, DATASETS_BLOCKED, 1 if blocked else 0, Dataset=dataset)
    put(cloudwatch, UNREADABLE_OBJECTS, unreadable, Dataset=dataset)
