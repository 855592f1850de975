"""The CloudFormation templates as `make deploy` ships them: state machine definitions inlined from the ASL files.

The templates in cloudformation/ point at the ASL files (DefinitionS3Location), so each part can be read and linted
alone. What `make deploy` uploads, to AWS and to moto's CloudFormation alike, is `packaged()`: each definition inlined
as `DefinitionString: !Sub [<ASL text>, <DefinitionSubstitutions>]`, which CloudFormation resolves the same way (moto
ignores DefinitionSubstitutions but resolves Fn::Sub), so an edited ASL file is a changed template that an update
deploys (CloudFormation does not look at an S3 object whose key is unchanged).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

from deployment.errors import TemplateError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "cloudformation"
STATE_MACHINES = ROOT / "ingestion_lambdas" / "statemachines"
REPORT_PLAN = TEMPLATES / "report-plan.json"


@dataclass(frozen=True)
class StackTemplate:
    part: str  # storage, ingestion, curation, ...: the stack is named <prefix>-<part>
    template: str  # file name in cloudformation/
    optional: bool = False  # deployed only when asked for (spapi-lake deploy --warehouse / --bi)

    @property
    def logical_id(self) -> str:
        """The part's nested stack in the entry stack (cloudformation/main.yaml)."""
        return self.part.title()


# In deployment order: ingestion and curation import the storage stack's exports, governance the first three
# stacks', the warehouse storage's and curation's (its load runs in the curation workflow), BI governance's; operations
# alarms on what ingestion and curation name (by their Prefix-built names) and runs the credential check.
STACKS = (StackTemplate("storage", "storage.yaml"), StackTemplate("ingestion", "ingestion.yaml"),
          StackTemplate("curation", "curation.yaml"), StackTemplate("governance", "governance.yaml"),
          StackTemplate("operations", "operations.yaml"),  # alarms on the resources the stacks above name
          StackTemplate("warehouse", "warehouse.yaml", optional=True),
          StackTemplate("bi", "bi.yaml", optional=True))  # fmt: skip


def load(name: str) -> dict[str, Any]:
    template, problems = decode_str((TEMPLATES / name).read_text(encoding="utf-8"))
    if problems or template is None:
        raise TemplateError(f"{name}: {problems}")
    return dict(json.loads(json.dumps(template)))  # plain dicts and lists


def packaged_template(name: str) -> dict[str, Any]:
    """The template with every DefinitionS3Location replaced by the ASL file's text, and KMS key policies as JSON
    text (CloudFormation takes both forms; moto's KMS breaks on a policy object, see ARCHITECTURE.md)."""
    template = load(name)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        location = properties.pop("DefinitionS3Location", None)
        if location is not None:
            asl = STATE_MACHINES / str(location["Key"]).rsplit("/", 1)[-1]
            substitutions = properties.pop("DefinitionSubstitutions", {})
            properties["DefinitionString"] = {"Fn::Sub": [asl.read_text(encoding="utf-8"), substitutions]}
        if resource["Type"] == "AWS::KMS::Key" and isinstance(properties.get("KeyPolicy"), dict):
            properties["KeyPolicy"] = {"Fn::Sub": json.dumps(_as_sub_text(properties["KeyPolicy"]))}
    return template


def packaged(name: str) -> str:
    return json.dumps(packaged_template(name))


def _as_sub_text(value: Any) -> Any:
    """A policy document whose intrinsics are !Sub strings or pseudo-parameter Refs, as plain Fn::Sub text."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return value["Fn::Sub"]
        if set(value) == {"Ref"} and str(value["Ref"]).startswith("AWS::"):
            return "${" + value["Ref"] + "}"
        return {key: _as_sub_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_sub_text(item) for item in value]
    return value
