"""The ASL files: every Task retries and catches, and every error it names is one our code can raise."""

import json
from pathlib import Path

import pytest

from ingestion_lambdas.services.landing import DOWNLOAD_ERRORS, DOWNLOAD_MAX_ATTEMPTS
from ingestion_lambdas.spapi import errors

ASL = sorted((Path(__file__).parents[2] / "ingestion_lambdas" / "statemachines").glob("*.asl.json"))
RAISED = {name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, Exception)}


def tasks(states: dict) -> list[tuple[str, dict]]:
    found = []
    for name, state in states.items():
        if state["Type"] == "Task":
            found.append((name, state))
        for branch in state.get("Branches", []) + ([state["ItemProcessor"]] if "ItemProcessor" in state else []):
            found += tasks(branch["States"])
    return found


@pytest.mark.parametrize("path", ASL, ids=[p.name for p in ASL])
def test_every_task_declares_retry_and_catch_on_errors_our_code_raises(path):
    definition = json.loads(path.read_text())
    found = tasks(definition["States"])
    assert found
    for name, task in found:
        assert task.get("Retry") and task.get("Catch"), f"{path.name}:{name}"
        named = {e for rule in task["Retry"] + task["Catch"] for e in rule["ErrorEquals"]}
        ours = {e for e in named if not e.startswith(("States.", "Lambda."))}
        assert ours <= RAISED, f"{path.name}:{name} names errors nothing raises: {ours - RAISED}"


def test_one_land_report_execution_retries_a_failing_download_until_the_landing_records_failed():
    # The landing raises a download error for a retry until the DOWNLOAD_MAX_ATTEMPTS-th, which it records FAILED:
    # the retrier must allow that many attempts, or the execution fails first and leaves the entry to reconcile.
    definition = json.loads((ASL[0].parent / "land_report.asl.json").read_text())
    (task,) = [state for _, state in tasks(definition["States"])]
    download_errors = {cls.__name__ for cls in DOWNLOAD_ERRORS} | {errors.DocumentUrlRefusedError.__name__}
    (retrier,) = [rule for rule in task["Retry"] if download_errors & set(rule["ErrorEquals"])]
    assert set(retrier["ErrorEquals"]) == download_errors  # every download error, and nothing else, in this retrier
    assert 1 + retrier["MaxAttempts"] >= DOWNLOAD_MAX_ATTEMPTS
