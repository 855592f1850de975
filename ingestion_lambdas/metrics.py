"""The pipeline's custom CloudWatch metrics, declared once: namespace, names, units and dimensions.

The Lambda functions emit them as CloudWatch embedded metric format (EMF) lines on stdout, through Powertools
Metrics: Lambda's log agent turns each line into a metric, so a function needs no `cloudwatch:PutMetricData`. Every
metric is emitted to several series in one line: by `service` alone (summed over every report type, operation or
account) and by `service` plus its own dimensions (what an alarm picks out, or a dashboard breaks it down by).
The Glue job has no EMF agent and puts its metrics with boto3 (glue_jobs/common/metrics.py, same namespace;
tests/unit/test_operations.py ties both declarations to the alarms).

Example:
    >>> emit(REPORTS_LANDED, 1, ReportType="GET_MERCHANT_LISTINGS_ALL_DATA")
    {"_aws": {..., "CloudWatchMetrics": [{"Namespace": "SpApiLake", "Dimensions": [["service"],
     ["service", "ReportType"]], "Metrics": [{"Name": "ReportsLanded", "Unit": "Count"}]}]}, "service": "spapi-lake",
     "ReportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "ReportsLanded": [1.0]}
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

NAMESPACE = "SpApiLake"
SERVICE = "spapi-lake"  # the `service` dimension of every metric, as the handlers' Logger names the service
SERVICE_DIMENSION = "service"


@dataclass(frozen=True)
class Metric:
    """One custom metric and the series it is emitted to: each dimension set, always with `service` first."""

    name: str
    unit: MetricUnit
    dimension_sets: tuple[tuple[str, ...], ...] = ((),)  # beyond `service`; () is `service` alone
    description: str = ""

    @property
    def dimensions(self) -> frozenset[str]:
        """Every dimension `emit` must be given a value for."""
        return frozenset(name for names in self.dimension_sets for name in names)

    def series(self) -> tuple[tuple[str, ...], ...]:
        """The full dimension names of each series, as CloudWatch (and an alarm) names them."""
        return tuple((SERVICE_DIMENSION, *names) for names in self.dimension_sets)


REPORTS_LANDED = Metric(
    "ReportsLanded", MetricUnit.Count, ((), ("ReportType",)), "a report document landed in the raw zone (LANDED)"
)
REPORTS_FAILED = Metric(
    "ReportsFailed",
    MetricUnit.Count,
    ((), ("Status",), ("ReportType", "Status")),
    "a report Amazon ended FATAL (Status=FATAL: requested again after a cooldown), or one the pipeline gave up on "
    "(Status=FAILED: FATAL too many times, or a document that never downloads whole)",
)
REPORTS_NO_DATA = Metric(
    "ReportsNoData", MetricUnit.Count, ((), ("ReportType",)), "a report Amazon CANCELLED: no data in its window"
)
SPAPI_THROTTLES = Metric(
    "SpApiThrottles", MetricUnit.Count, ((), ("Operation",)), "an SP-API response 429 (each one, retried or not)"
)
CLIENT_SECRET_DAYS_LEFT = Metric(
    "LwaClientSecretDaysLeft",
    MetricUnit.Count,
    ((),),
    "days until the LWA app's client secret is 180 days old (Amazon's rotation deadline)",
)
REFRESH_TOKEN_DAYS_LEFT = Metric(
    "RefreshTokenDaysLeft",
    MetricUnit.Count,
    ((), ("AccountId",)),
    "days until an account's refresh token is 365 days old (the selling partner authorizes the app again); by "
    "`service` alone one point per account, so the series' Minimum is the soonest",
)

METRICS = (REPORTS_LANDED, REPORTS_FAILED, REPORTS_NO_DATA, SPAPI_THROTTLES, CLIENT_SECRET_DAYS_LEFT,
           REFRESH_TOKEN_DAYS_LEFT)  # fmt: skip


def emit(metric: Metric, value: float, metadata: dict[str, object] | None = None, **dimensions: str) -> None:
    """Print one EMF line with `value` for `metric`, to each of its series.

    `metadata` (ids such as report_id) goes in the line but not in the metric: Logs Insights finds the unit of work
    behind a data point, and the metric's cardinality stays the dimensions'.

    A fresh EphemeralMetrics per line: the SP-API client runs on several threads, and Powertools' shared `Metrics`
    keeps one metric set per process, which would merge lines of different dimensions.

    Raises:
        ValueError: `dimensions` are not exactly the metric's declared dimensions.
    """
    if set(dimensions) != metric.dimensions:
        raise ValueError(f"{metric.name} takes dimensions {sorted(metric.dimensions)}, not {sorted(dimensions)}")
    line = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)  # `service` alone: the first dimension set
    line.add_metric(name=metric.name, unit=metric.unit, value=value)
    for key, item in (metadata or {}).items():
        line.add_metadata(key=key, value=item)
    for names in metric.dimension_sets:
        if names:
            line.add_dimensions(**{SERVICE_DIMENSION: SERVICE}, **{name: dimensions[name] for name in names})
    line.flush_metrics()
