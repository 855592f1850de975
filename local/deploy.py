"""`spapi-lake deploy`: package the ingestion code, upload it with the ASL files, deploy the stacks with boto3.

Uses the AWS credentials and region of the environment. The storage stack goes first (the ingestion stack imports
its exports). Secrets (the LWA app credentials, each account's refresh token) are set by you afterwards, in
Secrets Manager, under the names the stack outputs and your accounts file give.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ingestion_lambdas import aws
from local.cloudformation import STATE_MACHINES, TEMPLATES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ingestion_lambdas", "lake_formation")
CODE_KEY = "ingestion/lambda.zip"
GLUE_SCRIPT_KEY = "glue/curate_reports/job.py"
GLUE_PACKAGE_KEY = "glue/spapi_lake.zip"


def build_package(target: Path, with_dependencies: bool = True) -> Path:
    """The Lambda zip: our packages plus requirements-lambda.txt installed for the Lambda runtime's platform."""
    with tempfile.TemporaryDirectory() as build:
        if with_dependencies:
            subprocess.run(  # noqa: S603
                [sys.executable, "-m", "pip", "install", "--quiet", "--target", build, "--platform",
                 "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11", "--only-binary=:all:",
                 "-r", str(ROOT / "requirements-lambda.txt")],
                check=True,
            )  # fmt: skip
        for package in PACKAGES:
            shutil.copytree(ROOT / package, Path(build) / package, ignore=shutil.ignore_patterns("__pycache__"))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(build).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(build))
    return target


def build_glue_package(target: Path) -> Path:
    """--extra-py-files for the Glue job: glue_jobs and lake_formation (schemas included); Glue brings Spark."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in ("glue_jobs", "lake_formation"):
            for path in sorted((ROOT / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(ROOT))
    return target


def deploy_stack(name: str, template: str, parameters: dict[str, str]) -> dict[str, Any]:
    cfn = aws.client("cloudformation")
    arguments = {
        "StackName": name,
        "TemplateBody": (TEMPLATES / template).read_text(encoding="utf-8"),
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Capabilities": ["CAPABILITY_IAM"],
    }
    try:
        cfn.create_stack(**arguments)
        cfn.get_waiter("stack_create_complete").wait(StackName=name)
    except ClientError as err:
        if err.response["Error"]["Code"] != "AlreadyExistsException":
            raise
        try:
            cfn.update_stack(**arguments)
        except ClientError as update_err:
            if "No updates are to be performed" not in str(update_err):
                raise
        else:
            cfn.get_waiter("stack_update_complete").wait(StackName=name)
    return dict(cfn.describe_stacks(StackName=name)["Stacks"][0])


def deploy(prefix: str, artifacts_bucket: str, accounts_file: Path | None) -> dict[str, str]:
    s3 = aws.client("s3")
    with tempfile.TemporaryDirectory() as work:
        package = build_package(Path(work) / "lambda.zip")
        s3.upload_file(str(package), artifacts_bucket, CODE_KEY)
        s3.upload_file(str(build_glue_package(Path(work) / "spapi_lake.zip")), artifacts_bucket, GLUE_PACKAGE_KEY)
    s3.upload_file(str(ROOT / "glue_jobs" / "curate_reports" / "job.py"), artifacts_bucket, GLUE_SCRIPT_KEY)
    for asl in STATE_MACHINES.glob("*.asl.json"):
        s3.upload_file(str(asl), artifacts_bucket, f"statemachines/{asl.name}")
    deploy_stack(f"{prefix}-storage", "storage.yaml", {"Prefix": prefix})
    parameters = {
        "Prefix": prefix,
        "ArtifactsBucket": artifacts_bucket,
        "CodeKey": CODE_KEY,
        "ReportPlanJson": (TEMPLATES / "report-plan.json").read_text(encoding="utf-8"),
    }
    if accounts_file is not None:
        parameters["AccountsJson"] = accounts_file.read_text(encoding="utf-8")
    stack = deploy_stack(f"{prefix}-ingestion", "ingestion.yaml", parameters)
    deploy_stack(f"{prefix}-curation", "curation.yaml", {"Prefix": prefix, "ArtifactsBucket": artifacts_bucket})
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
