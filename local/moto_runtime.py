"""moto's server in this process, with Step Functions executing ASL, Lambda invokes routed to our real handlers and
Glue job runs executed by our real job scripts under local Spark.

The routing replaces two moto internals (LambdaSimpleBackend.invoke, GlueBackend.start_job_run); moto is pinned
exactly because of it. Nothing else in the project knows it runs offline: it sees AWS endpoints only.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import traceback
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.glue.models import GlueBackend
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)
REGION = "us-east-1"
# Glue job runs share the process's one Spark session, several at a time (a Glue trigger starts all its actions at
# once); beyond 3 on a 2-core machine they only queue for the same cores.
LOCAL_JOB_SLOTS = 3
_job_slots = threading.BoundedSemaphore(LOCAL_JOB_SLOTS)
# moto's GetJobRun has no ErrorMessage: failed runs' errors are kept here for the local runner to report.
JOB_RUN_ERRORS: dict[str, str] = {}


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context` (the attributes Powertools reads)."""

    function_name: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def resolve(dotted: str) -> Callable[..., Any]:
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)  # type: ignore[no-any-return]


def _invoke_handler(
    self: LambdaSimpleBackend, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    function = self.get_function(function_name, qualifier)
    event = json.loads(body) if body else {}
    context = LambdaContext(
        function.function_name, aws_request_id=str(uuid.uuid4()), invoked_function_arn=function.function_arn
    )
    try:
        result = resolve(str(function.handler))(event, context)
    except Exception as err:  # noqa: BLE001 - the Lambda runtime turns any exception into a function error
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(
            {
                "errorType": type(err).__name__,
                "errorMessage": str(err),
                "stackTrace": traceback.format_exception(err)[-3:],
            }
        ).encode()
    return json.dumps(result).encode()


def job_module_for(script_location: str) -> str:
    """s3://<bucket>/glue_jobs/<job>/job.py → glue_jobs.<job>.job"""
    parts = script_location.rstrip("/").split("/")
    return f"glue_jobs.{parts[-2]}.job"


_original_start_job_run = GlueBackend.start_job_run


def _start_job_run(self: GlueBackend, name: str, arguments: dict[str, str] | None, *args: Any, **kwargs: Any) -> str:
    run_id: str = _original_start_job_run(self, name, arguments, *args, **kwargs)
    job = self.get_job(name)
    run = next(r for r in job.job_runs if r.job_run_id == run_id)
    run._transitions = []  # noqa: SLF001 - hold RUNNING until the real job finishes
    run.status = "RUNNING"
    script = str(job.command["ScriptLocation"])  # type: ignore[index]
    argv = [script]
    for key, value in {**job.default_arguments, **(arguments or {}), "--JOB_RUN_ID": run_id}.items():
        argv += [key if key.startswith("--") else f"--{key}", value]

    def execute() -> None:
        with _job_slots:
            try:
                resolve(f"{job_module_for(script)}.main")(argv)
            except Exception as err:  # noqa: BLE001 - Glue records any failure as the run's ErrorMessage
                logger.exception("glue job %s failed", name)
                JOB_RUN_ERRORS[run_id] = f"{type(err).__name__}: {err}"
                run.status = "FAILED"
            else:
                run.status = "SUCCEEDED"

    threading.Thread(target=execute, name=f"glue-{name}", daemon=True).start()
    return run_id


class LocalAws:
    """moto's server on a free loopback port, configured as ARCHITECTURE.md describes."""

    def __init__(self) -> None:
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines from moto's server
        # moto's ASL interpreter logs every caught Task error with its whole parse tree; failures that matter end
        # the execution, and the runner reports them with the execution's error and cause.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # moto's Step Functions interpreter calls the other services at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        for name, value in {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }.items():
            os.environ[name] = value
        config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        requests.post(f"{self.endpoint}/moto-api/config", json=config, timeout=10).raise_for_status()
        LambdaSimpleBackend.invoke = _invoke_handler  # type: ignore[method-assign]
        GlueBackend.start_job_run = _start_job_run  # type: ignore[method-assign]
        return self.endpoint

    def stop(self) -> None:
        self.server.stop()
