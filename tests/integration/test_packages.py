"""The code packages as they run: Glue imports our code from the `--extra-py-files` zip, Lambda from its zip.

Each test runs a fresh interpreter (`python -S`: no site hooks, so not the repository's editable install) whose only
project code is the built zip on `sys.path`, third-party libraries beside it, as Glue 5.0 and Lambda load them. The
Glue jobs run there for real: the curation job over an orders report landed in moto's S3, then the warehouse loader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from datetime import UTC, datetime, timedelta

import boto3
import duckdb

from deployment.artifacts import build_glue_package, build_package
from deployment.templates import ROOT, STACKS, load
from lake_formation.raw_zone import RawObject, RawZone
from local.prerequisites import JAR_DIR, JARS
from sandbox.report_content import ReportRequest
from sandbox.report_types import REPORT_TYPES
from sandbox.world import World

SITE_PACKAGES = sysconfig.get_paths()["purelib"]
REPORT_TYPE = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
MARKETPLACE = "A1PA6795UKMFR9"

# The fresh interpreter: the zip first, the third-party libraries after it; then the Glue runtime's part (a Spark
# session whose s3:// is S3, here moto's through s3a) and the job's entry point, as Glue calls it.
GLUE_RUN = """
import json, sys
package, site_packages, jars, endpoint, raw, curated, database, warehouse = sys.argv[1:]
sys.path.insert(0, package)
sys.path.append(site_packages)
from pyspark.sql import SparkSession
s3a = {"fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem", "fs.s3a.endpoint": endpoint,
       "fs.s3a.path.style.access": "true", "fs.s3a.connection.ssl.enabled": "false",
       "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
       "fs.s3a.access.key": "testing", "fs.s3a.secret.key": "testing", "fs.s3a.change.detection.mode": "none",
       "fs.s3a.committer.name": "directory"}
builder = SparkSession.builder.master("local[1]").config("spark.jars", jars).config("spark.ui.enabled", "false")
for key, value in s3a.items():
    builder = builder.config("spark.hadoop." + key, value)
builder.config("spark.sql.shuffle.partitions", "2").getOrCreate().sparkContext.setLogLevel("ERROR")
from glue_jobs.curate_reports import job as curate
from glue_jobs.load_warehouse import job as load
curated_run = curate.main(["job.py", "--dataset", "orders", "--raw_bucket", raw, "--curated_bucket", curated,
                           "--database", database, "--JOB_RUN_ID", "package-run"])
loaded = load.main(["job.py", "--curated_bucket", curated, "--warehouse", "duckdb://" + warehouse,
                    "--schema", "spapi", "--copy_role_arn", "none", "--JOB_RUN_ID", "package-load"])
from lake_formation import registry, views
ours = {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
        if name.split(".")[0] in ("glue_jobs", "lake_formation", "ingestion_lambdas", "local", "sandbox")}
print(json.dumps({"curated": curated_run.model_dump(mode="json"), "loaded": loaded.model_dump(mode="json"),
                  "modules": ours, "datasets": len(registry.load_all()), "views": len(views.load_all())}))
"""

LAMBDA_IMPORT = """
import importlib, json, sys
package, site_packages, *handlers = sys.argv[1:]
sys.path.insert(0, package)
sys.path.append(site_packages)
for dotted in handlers:  # as the functions' Handler settings name them: module.function
    module, _, function = dotted.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function)), dotted
from lake_formation import registry
print(json.dumps({name: module.__file__ for name, module in sys.modules.items()
                  if name.split(".")[0] in ("ingestion_lambdas", "lake_formation", "glue_jobs", "local", "sandbox")}
                 | {"datasets": len(registry.load_all())}))
"""


def fresh_interpreter(script: str, *arguments: str, cwd: str, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-S", "-c", script, *arguments], capture_output=True, text=True, timeout=600, check=False,
        cwd=cwd, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_glue_jobs_run_from_their_package_alone(stack, tmp_path):
    # GIVEN an orders report landed in a raw bucket of its own, as LandReport lands one
    session = boto3.session.Session()
    s3, suffix = session.client("s3"), "package-test"
    raw_bucket, curated_bucket, database = f"raw-{suffix}", f"curated-{suffix}", f"db_{suffix.replace('-', '_')}"
    for bucket in (raw_bucket, curated_bucket):
        s3.create_bucket(Bucket=bucket)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)  # fresh: the suite checks it
    report = REPORT_TYPES[REPORT_TYPE].render(
        World(), ReportRequest("demo-seller-eu", MARKETPLACE, end - timedelta(days=2), end, {})
    )
    body = report.encode("UTF-8")
    raw = RawZone(s3, raw_bucket)
    target = RawObject(raw_name=REPORT_TYPE, marketplace_id=MARKETPLACE, day=end, object_id="package-1", format="tsv")
    raw.put_object(target, body)
    raw.write_manifest(raw.manifest_entry(
        target, account_id="demo-seller-eu", source_charset="UTF-8", bytes=len(body), rows=len(report.rows),
        sha256="0" * 64, header=list(report.header), ingested_at=end + timedelta(hours=1),
        data_start_time=end - timedelta(days=2), data_end_time=end,
    ))  # fmt: skip
    package = build_glue_package(tmp_path / "spapi_lake.zip")
    warehouse = tmp_path / "warehouse.duckdb"
    jars = ",".join(str(JAR_DIR / name) for name in JARS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"AWS_ENDPOINT_URL": stack.aws.endpoint,
           "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}  # fmt: skip

    # WHEN Glue's interpreter runs the curation job and then the loader, importing them from the package
    run = fresh_interpreter(GLUE_RUN, str(package), SITE_PACKAGES, jars, stack.aws.endpoint, raw_bucket,
                            curated_bucket, database, str(warehouse), cwd=str(tmp_path), env=env)  # fmt: skip

    # THEN every line of the report is curated, registered and loaded, and all our code came from the zip
    assert run["curated"]["status"] == "SUCCEEDED"
    assert run["curated"]["curated"] == len(report.rows) and run["curated"]["quarantined"] == 0
    assert run["datasets"] == 15 and run["views"] == 7  # the registry and the views: package data, from the zip
    assert all(str(path).startswith(str(package)) for path in run["modules"].values()), run["modules"]
    assert {"glue_jobs.curate_reports.job", "glue_jobs.load_warehouse.job"} <= set(run["modules"])
    assert not {name for name in run["modules"] if name.split(".")[0] in ("local", "sandbox", "ingestion_lambdas")}
    glue = session.client("glue")
    assert glue.get_table(DatabaseName=database, Name="orders")["Table"]["Name"] == "orders"
    assert run["loaded"]["tables"]["orders"]["runs"] == ["package-run"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM spapi.orders").fetchone() == (len(report.rows),)


def test_every_handler_imports_from_the_lambda_package_alone(tmp_path):
    package = build_package(tmp_path / "lambda.zip", with_dependencies=False)
    handlers = sorted(str(r["Properties"]["Handler"]) for stack in STACKS
                      for r in load(stack.template)["Resources"].values()
                      if r["Type"] == "AWS::Lambda::Function" and "Handler" in r["Properties"])  # fmt: skip
    files = {p.stem for p in (ROOT / "ingestion_lambdas" / "handlers").glob("*.py") if p.stem != "__init__"}
    assert {h.split(".")[2] for h in handlers} == files  # every handler module is a deployed function's
    modules = fresh_interpreter(LAMBDA_IMPORT, str(package), SITE_PACKAGES, *handlers, cwd=str(tmp_path))
    assert modules.pop("datasets") == 15
    assert {h.rpartition(".")[0] for h in handlers} <= set(modules)
    assert all(str(path).startswith(str(package)) for path in modules.values()), modules
    assert not {name for name in modules if name.split(".")[0] in ("local", "sandbox", "glue_jobs")}
