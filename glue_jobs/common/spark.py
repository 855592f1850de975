"""The Spark session a job runs in: Glue's on AWS, the local runtime's offline (both pre-configure the cluster)."""

from __future__ import annotations

from pyspark.sql import SparkSession

SESSION_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "snappy",
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",  # unparsable dates become null (→ quarantine), never errors
    "spark.sql.execution.arrow.pyspark.enabled": "true",  # a batch validated in memory is collected through Arrow
}


def get_spark() -> SparkSession:
    """The active session with the settings every curation job relies on."""
    spark = SparkSession.builder.getOrCreate()
    for key, value in SESSION_SETTINGS.items():
        spark.conf.set(key, value)
    return spark
