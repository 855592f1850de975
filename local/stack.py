"""The whole offline world in one process: moto's server, the SP-API sandbox, provisioned resources, local Spark."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from local.event_sources import SqsEventSource
from local.moto_runtime import LocalAws
from local.provision import Deployment, provision
from local.spark import local_spark
from sandbox.app import SandboxConfig
from sandbox.server import RunningSandbox, start_in_thread

if TYPE_CHECKING:
    from types import TracebackType

    from pyspark.sql import SparkSession


@dataclass
class LocalStack:
    sandbox_config: SandboxConfig = field(default_factory=lambda: SandboxConfig(time_scale=20.0))
    aws: LocalAws = field(default_factory=LocalAws)
    sandbox: RunningSandbox | None = None
    resources: Deployment | None = None
    notifications: SqsEventSource | None = None
    # The offline warehouse (a DuckDB file the loader job loads); None: a new file in a temporary folder.
    warehouse: Path | None = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.aws.start()
        self.sandbox = start_in_thread(self.sandbox_config)
        if self.warehouse is None:
            self.warehouse = Path(tempfile.mkdtemp(prefix="spapi-lake-")) / "warehouse.duckdb"
        self.warehouse.unlink(missing_ok=True)  # a new world: its warehouse starts empty
        self.resources = provision(self.sandbox, self.warehouse.resolve())
        # The handlers run in this process: give them the environment CloudFormation gave the Lambda functions.
        os.environ.update(self.resources.environment())
        # On AWS, Lambda's log agent turns the functions' EMF lines into CloudWatch metrics; here they would only
        # flood the output (tests/integration/test_operations.py switches them on to read them).
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        # On AWS the event source mapping feeds the queue to the notifications function; here this thread does.
        source = self.resources.notifications
        self.notifications = SqsEventSource(source.queue_url, source.queue_arn, source.function_name, source.batch_size)
        self.notifications.start()

    def spark(self) -> SparkSession:
        return local_spark(self.aws.endpoint)

    def stop(self) -> None:
        if self.notifications is not None:
            self.notifications.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.aws.stop()
