"""The local Spark session: s3:// and s3a:// go to moto's S3 through the s3a connector. One per process."""

from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession

from glue_jobs.common.spark import SESSION_SETTINGS
from local.prerequisites import JAR_DIR, JARS, check_java, jars_ok

LOG4J2 = """status = error
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def _log_config() -> str:
    """Spark logs errors only: the demo's output is for people."""
    path = JAR_DIR.parent / "log4j2.properties"
    if not path.exists() or path.read_text() != LOG4J2:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LOG4J2)
    return str(path)


def local_spark(s3_endpoint: str | None = None) -> SparkSession:
    """Create (or return) the process's Spark session; with an endpoint, s3:// and s3a:// go there."""
    check_java()
    if not jars_ok():
        raise RuntimeError("the s3a jars are missing: run `make setup` (it downloads and verifies them)")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    s3a = {
        "fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",  # the job code says s3://, as on Glue
        **({"fs.s3a.endpoint": s3_endpoint} if s3_endpoint else {}),
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": "false",
        "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        "fs.s3a.access.key": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "fs.s3a.secret.key": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "fs.s3a.change.detection.mode": "none",
        "fs.s3a.committer.name": "directory",
        "fs.s3a.directory.marker.retention": "keep",  # no marker deletes after each object written (as S3 needs)
    }
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("spapi-lake")
        .config("spark.jars", ",".join(str(JAR_DIR / name) for name in JARS))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Duser.timezone=UTC -Dlog4j2.configurationFile={_log_config()}")
    )
    for key, value in s3a.items():
        builder = builder.config(f"spark.hadoop.{key}", value)
    for key, value in SESSION_SETTINGS.items():  # as the job's session (get_spark), for code tested outside a job
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()  # noqa: SLF001 - a reused session may point elsewhere
    for key, value in s3a.items():
        hadoop.set(key, value)
    return spark
