"""The code packages and files the stacks read from the artifacts bucket: the Lambda zip, the Glue job script and
its --extra-py-files zip, the ASL definitions. Their keys are the templates' own (parameter defaults and
DefinitionS3Location keys), so nothing here names them again."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from deployment.templates import ROOT, STATE_MACHINES, load

LAMBDA_PACKAGES = ("ingestion_lambdas", "lake_formation")
GLUE_PACKAGES = ("glue_jobs", "lake_formation")
GLUE_SCRIPT = ROOT / "glue_jobs" / "curate_reports" / "job.py"
LOADER_SCRIPT = ROOT / "glue_jobs" / "load_warehouse" / "job.py"


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
        for package in LAMBDA_PACKAGES:
            shutil.copytree(ROOT / package, Path(build) / package, ignore=shutil.ignore_patterns("__pycache__"))
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(build).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(build))
    return target


def build_glue_package(target: Path) -> Path:
    """--extra-py-files for the Glue job: glue_jobs and lake_formation (schemas included); Glue brings Spark."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for package in GLUE_PACKAGES:
            for path in sorted((ROOT / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(ROOT))
    return target


def _default(template: str, parameter: str) -> str:
    return str(load(template)["Parameters"][parameter]["Default"])


def source_version(packages: tuple[str, ...], *files: Path) -> str:
    """A digest of the packages' sources (and extra files): a new version of the code gets a new key."""
    digest = hashlib.sha256()
    paths = [p for package in packages for p in sorted((ROOT / package).rglob("*")) if p.is_file()]
    for path in [p for p in paths if "__pycache__" not in p.parts] + list(files):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def artifact_keys() -> dict[str, str]:
    """Where each artifact goes in the artifacts bucket, as the templates expect it. The Lambda zip goes under a
    folder named after its sources (the template default's folder, then the version): CloudFormation updates a
    function's code only when its S3 key changes. Glue reads its script and package at each run's start."""
    folder, name = _default("ingestion.yaml", "CodeKey").rsplit("/", 1)
    version = source_version(LAMBDA_PACKAGES, ROOT / "requirements-lambda.txt")
    keys = {
        "lambda": f"{folder}/{version}/{name}",
        "glue_script": _default("curation.yaml", "ScriptKey"),
        "glue_package": _default("curation.yaml", "PackageKey"),
        "loader_script": _default("warehouse.yaml", "LoaderScriptKey"),
    }
    for resource in load("ingestion.yaml")["Resources"].values():
        location = resource.get("Properties", {}).get("DefinitionS3Location")
        if location is not None:
            keys[f"asl:{str(location['Key']).rsplit('/', 1)[-1]}"] = str(location["Key"])
    return keys


def upload_artifacts(s3: Any, bucket: str, with_dependencies: bool = True) -> dict[str, str]:
    """Build the packages and upload everything the stacks read; returns the keys written."""
    keys = artifact_keys()
    with tempfile.TemporaryDirectory() as work:
        s3.upload_file(str(build_package(Path(work) / "lambda.zip", with_dependencies)), bucket, keys["lambda"])
        s3.upload_file(str(build_glue_package(Path(work) / "glue.zip")), bucket, keys["glue_package"])
    s3.upload_file(str(GLUE_SCRIPT), bucket, keys["glue_script"])
    s3.upload_file(str(LOADER_SCRIPT), bucket, keys["loader_script"])
    for name, key in keys.items():
        if name.startswith("asl:"):
            s3.upload_file(str(STATE_MACHINES / name.removeprefix("asl:")), bucket, key)
    return keys
