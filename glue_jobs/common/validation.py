"""Validate a curated batch with great-expectations, from the suite the registry renders; keep the results.

The suite runs on the batch about to be published (typed, deduplicated). Its results go beside the run report as
JSON, and its Data Docs (HTML) are built into a local folder that the job then uploads next to the data.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lake_formation.render import expectations

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lake_formation.registry import Dataset

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave the job (offline or on Glue)
logger = logging.getLogger(__name__)


@dataclass
class ValidationOutcome:
    success: bool
    evaluated: int
    failed: list[str] = field(default_factory=list)  # "expect_...(column): N unexpected"
    results: dict[str, Any] = field(default_factory=dict)  # great-expectations' JSON
    docs_dir: Path | None = None


def _expectation(config: dict[str, Any]) -> Any:
    import great_expectations as gx  # noqa: PLC0415 - a heavy import, only where a batch is validated

    name = "".join(part.title() for part in config["type"].split("_"))
    return getattr(gx.expectations, name)(**config["kwargs"])


def validate(dataset: Dataset, batch: DataFrame, run_id: str, docs_dir: Path | None = None) -> ValidationOutcome:
    """Run the dataset's suite on `batch`; build Data Docs under `docs_dir` (a temporary folder if None)."""
    import great_expectations as gx  # noqa: PLC0415
    from great_expectations.checkpoint.actions import UpdateDataDocsAction  # noqa: PLC0415

    root = docs_dir or Path(tempfile.mkdtemp(prefix="gx-"))
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    name = f"{dataset.table}"
    source = context.data_sources.add_or_update_spark(name="curated")
    asset = next((a for a in source.assets if a.name == name), None) or source.add_dataframe_asset(name=name)
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{name}-{run_id}")
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=name, expectations=[_expectation(c) for c in expectations(dataset)])
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{name}-{run_id}", data=batch_definition, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{name}-{run_id}",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="data-docs")],
            result_format={"result_format": "SUMMARY"},
        )
    )
    run = checkpoint.run(batch_parameters={"dataframe": batch})
    (result,) = run.run_results.values()
    failed = [
        f"{config.type}({_target(config.kwargs)}): {(r.result or {}).get('unexpected_count', 'failed')} unexpected"
        for r in result.results
        if not r.success and (config := r.expectation_config) is not None
    ]
    return ValidationOutcome(
        success=bool(run.success),
        evaluated=len(result.results),
        failed=failed,
        results=result.to_json_dict(),  # type: ignore[no-untyped-call]
        docs_dir=root / "gx" / "uncommitted" / "data_docs" / "local_site",
    )


def _target(kwargs: dict[str, Any]) -> str:
    return str(kwargs.get("column") or ",".join(kwargs.get("column_list", [])))
