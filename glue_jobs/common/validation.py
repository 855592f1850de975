"""Validate a curated batch with great-expectations, from the suite the registry renders; keep the results.

The suite runs on the batch about to be published (typed, deduplicated). Its results go beside the run report as
JSON, and its Data Docs (HTML) are built into a local folder that the job then uploads next to the data.

A batch of up to IN_MEMORY_ROWS rows is validated by great-expectations' pandas engine on the driver (collected
through Arrow): its Spark engine runs a Spark job per metric, about 1.5 s per suite on a few thousand rows, which
made validation a third of a daily curation run. Larger batches stay on Spark. Both engines run the same suite.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lake_formation.render import expectations

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lake_formation.registry import Dataset
    from lake_formation.render import RunContext

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave the job (offline or on Glue)
logger = logging.getLogger(__name__)
# Expectations on values, whose failure names a few of the values that broke them.
WITH_EXAMPLES = frozenset(
    {
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_pair_values_to_be_in_set",
    }
)
EXAMPLES = 3
# Up to this many rows a batch is validated in memory (pandas); a daily batch is far below it, a backfill may not be.
IN_MEMORY_ROWS = 1_000_000
# great-expectations keeps the context it is working with in a process global (its project manager, which Data Docs
# actions read), so validations in one process take turns: on Glue a job run is a process of its own; offline,
# concurrent job runs share one.
_GX_TURN = threading.Lock()


@dataclass
class ValidationOutcome:
    success: bool
    evaluated: int
    failed: list[str] = field(default_factory=list)  # "expect_...(column): reason", one per failed expectation
    results: dict[str, Any] = field(default_factory=dict)  # great-expectations' JSON
    docs_dir: Path | None = None


def _expectation(config: dict[str, Any]) -> Any:
    import great_expectations as gx  # noqa: PLC0415 - a heavy import, only where a batch is validated

    name = "".join(part.title() for part in config["type"].split("_"))
    extra = {key: config[key] for key in ("meta", "notes") if key in config}
    return getattr(gx.expectations, name)(**config["kwargs"], **extra)


def validate(  # noqa: PLR0913 - the suite's inputs
    dataset: Dataset,
    batch: DataFrame,
    run_id: str,
    docs_dir: Path | None = None,
    run: RunContext | None = None,
    rows: int | None = None,
) -> ValidationOutcome:
    """Run the dataset's suite on `batch`; build Data Docs under `docs_dir` (a temporary folder if None).

    Args:
        dataset: the registry's dataset: its suite is rendered from it.
        batch: the rows about to be published.
        run_id: names the suite's validation run (and its Data Docs page).
        docs_dir: where the Data Docs go.
        run: the run's time and the previous run's batch, for the freshness and row-count expectations; None checks
            the columns only (e.g. one local file curated outside the pipeline).
        rows: the batch's row count when the caller knows it (else it is counted): it chooses the engine.

    Returns:
        The verdict, each failed expectation as "expect_...(column): reason", great-expectations' own results.
    """
    root = docs_dir or Path(tempfile.mkdtemp(prefix="gx-"))
    in_memory = (batch.count() if rows is None else rows) <= IN_MEMORY_ROWS
    frame = batch.toPandas() if in_memory else batch
    with _GX_TURN:
        run_result = _run_suite(dataset, frame, in_memory, run_id, root, run)
    (result,) = run_result.run_results.values()
    failed = [
        f"{config.type}({_target(config.kwargs, config.meta)}): {_reason(config, r)}"
        for r in result.results
        if not r.success and (config := r.expectation_config) is not None
    ]
    return ValidationOutcome(
        success=bool(run_result.success),
        evaluated=len(result.results),
        failed=failed,
        results=result.to_json_dict(),
        docs_dir=root / "gx" / "uncommitted" / "data_docs" / "local_site",
    )


def _run_suite(  # noqa: PLR0913 - the suite's inputs
    dataset: Dataset, frame: Any, in_memory: bool, run_id: str, root: Path, run: RunContext | None
) -> Any:
    """The suite as a great-expectations checkpoint on `frame` (pandas or Spark), its Data Docs built under `root`."""
    import great_expectations as gx  # noqa: PLC0415 - a heavy import, only where a batch is validated
    from great_expectations.checkpoint.actions import UpdateDataDocsAction  # noqa: PLC0415

    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    name = f"{dataset.table}"
    if in_memory:
        source: Any = context.data_sources.add_or_update_pandas(name="curated")
    else:
        source = context.data_sources.add_or_update_spark(name="curated")
    asset = next((a for a in source.assets if a.name == name), None) or source.add_dataframe_asset(name=name)
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{name}-{run_id}")
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=name, expectations=[_expectation(c) for c in expectations(dataset, run)])
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
    return checkpoint.run(batch_parameters={"dataframe": frame})


def _target(kwargs: dict[str, Any], meta: dict[str, Any] | None) -> str:
    """What the expectation is about: its column(s), or the marketplace a table-level one counts."""
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if (meta or {}).get("marketplace_id"):
        return f"marketplace_id={meta['marketplace_id']}"  # type: ignore[index]
    return str(kwargs.get("column") or ",".join(kwargs.get("column_list", [])))


def _reason(config: Any, result: Any) -> str:
    """A short reason: how many values broke the rule (with a few of them), or what was observed against what was
    expected, and the expectation's note saying why it expects that."""
    outcome = result.result or {}
    if (error := _error(result)) is not None:
        reason = f"could not be evaluated: {error}"
    elif "unexpected_count" in outcome:
        reason = f"{outcome['unexpected_count']} unexpected"
        examples = outcome.get("partial_unexpected_list") or []
        if config.type in WITH_EXAMPLES and examples:
            reason += f", e.g. {examples[:EXAMPLES]}"
    elif "observed_value" in outcome:
        reason = f"observed {outcome['observed_value']}, expected {_bounds(config.kwargs)}"
    else:
        reason = "failed"
    return f"{reason} ({config.notes})" if config.notes else reason


def _error(result: Any) -> str | None:
    """The message of an exception the expectation raised (its exception_info is one entry, or one per metric)."""
    info = result.exception_info or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    return next((str(e.get("exception_message")) for e in entries if e.get("raised_exception")), None)


def _bounds(kwargs: dict[str, Any]) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f"at least {low}" if low is not None else f"at most {high}"
