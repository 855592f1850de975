"""Setup checks run by `make setup`: Java 17 is present, the s3a jars are downloaded and verified.

Only the standard library and pip are used here so that this runs before anything else is importable.
Usage: python -m local.prerequisites {java,jars}
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JAR_DIR = ROOT / ".cache" / "jars"
# Spark's s3a connector for pyspark 3.5 (Hadoop 3.3): shipped inside the sagemaker-pyspark source distribution on PyPI,
# the only package registry reachable here. The checksums pin the exact bytes.
JAR_SOURCE = "sagemaker-pyspark==1.4.5"
JARS = {
    "hadoop-aws-3.3.1.jar": "6be50ad8a8b445d2802381b085b2a3ede5c29d353450a6a21f16b2fefa962b6e",
    "aws-java-sdk-bundle-1.11.901.jar": "b87175b32a16544cc1b37cf40390eb375833e62bed67f8ce6cde4b7ad6429ead",
}
REQUIRED_JAVA = 17
JAVA_HELP = (
    "Java {need} is required (Spark runs on the JVM) but {found}.\n"
    "Install it, then run the command again:\n"
    "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n"
    "  macOS:         brew install openjdk@17\n"
    "or point JAVA_HOME at an existing Java 17 installation."
)


class PrerequisiteError(RuntimeError):
    """A machine prerequisite is missing; the message says how to fix it."""


def java_binary() -> str | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return shutil.which("java")


def java_major_version(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False, timeout=60)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise PrerequisiteError(JAVA_HELP.format(need=REQUIRED_JAVA, found=f"`{java} -version` printed no version"))
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> str:
    java = java_binary()
    if java is None:
        raise PrerequisiteError(JAVA_HELP.format(need=REQUIRED_JAVA, found="no `java` was found on PATH or JAVA_HOME"))
    major = java_major_version(java)
    if major != REQUIRED_JAVA:
        raise PrerequisiteError(JAVA_HELP.format(need=REQUIRED_JAVA, found=f"{java} is Java {major}"))
    return java


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def jars_ok(jar_dir: Path = JAR_DIR) -> bool:
    return all((jar_dir / name).exists() and sha256(jar_dir / name) == digest for name, digest in JARS.items())


def fetch_jars(jar_dir: Path = JAR_DIR) -> list[Path]:
    """Download the source distribution with pip, extract the two jars and verify their sha256."""
    if jars_ok(jar_dir):
        return [jar_dir / name for name in JARS]
    jar_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            JAR_SOURCE,
            "-d",
            tmp,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PrerequisiteError(f"could not download {JAR_SOURCE} from PyPI:\n{result.stderr[-2000:]}")
        (sdist,) = Path(tmp).glob("*.tar.gz")
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if name in JARS:
                    source = tar.extractfile(member)
                    if source is None:
                        continue
                    with source, (jar_dir / name).open("wb") as out:
                        shutil.copyfileobj(source, out)
    for name, digest in JARS.items():
        actual = sha256(jar_dir / name) if (jar_dir / name).exists() else "missing"
        if actual != digest:
            raise PrerequisiteError(f"{name}: sha256 {actual} does not match the pinned {digest}")
    return [jar_dir / name for name in JARS]


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else "all"
    try:
        if what in ("java", "all"):
            check_java()
        if what in ("jars", "all"):
            fetch_jars()
    except PrerequisiteError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
