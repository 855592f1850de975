"""Shared fixtures: one Spark session and at most one offline stack per test run (moto's backends are global)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from local.spark import local_spark
from local.stack import LocalStack
from sandbox.app import SandboxConfig
from sandbox.server import RunningSandbox, start_in_thread

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pyspark.sql import SparkSession

TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = Path(str(item.fspath)).relative_to(TESTS).parts[0]
        if kind in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with LocalStack() as running:
        yield running


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    # Unit tests never touch S3; the offline stack points the same session at moto when it starts.
    return local_spark()


@pytest.fixture
def sandbox_factory() -> Iterator[callable]:  # type: ignore[valid-type]
    started: list[RunningSandbox] = []

    def start(**config: object) -> RunningSandbox:
        running = start_in_thread(SandboxConfig(**{"time_scale": 1000.0, **config}))  # type: ignore[arg-type]
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
