"""The entry stack, `cloudformation/main.yaml`: every part template as a nested stack, rendered from the parts.

    python -m deployment.main_template > cloudformation/main.yaml   (a test keeps the file equal to this)

Nested stacks rather than one template with conditions: each part stays a template of its own (cfn-lint, tests and
the offline deployment read it alone; governance alone has hundreds of resources and grows with the registry, toward
CloudFormation's 500-resource and 1 MB limits), and one `spapi-lake deploy` still creates, updates and deletes the
whole lake as one stack. Nothing is declared twice: the entry stack's parameters are the union of the parts'
parameters (a name means the same in every part that declares it, or rendering fails), each part receives exactly
the parameters it declares, and each part waits for every part always deployed before it in STACKS' order (parts
also refer to each other by the names they give resources, which no export records; `exporters()` lets a test check
that every import is exported by an earlier part). Optional parts (warehouse, BI) are deployed when their
`Deploy<Part>` parameter is "true"; nothing waits for them (DependsOn a resource whose condition is false fails).

The parts' outputs are not repeated as the entry stack's outputs: `spapi-lake deploy` and the offline runtime read
them from the nested stacks (deployment.stacks.stack_outputs), which also works on moto, whose CloudFormation does
not resolve `Fn::GetAtt <Stack>.Outputs.<Name>`.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from deployment.errors import TemplateError
from deployment.templates import STACKS, StackTemplate, load
from lake_formation.governance import _NoAliases

MAIN = "main.yaml"
TEMPLATES_URL = "TemplatesUrl"
# Parameter properties that decide what a value means; descriptions may differ between parts.
_MEANING = ("Type", "Default", "AllowedValues", "AllowedPattern", "MinValue", "MaxValue", "NoEcho")


def deploy_parameter(stack: StackTemplate) -> str:
    """The entry stack's switch for an optional part: DeployWarehouse, DeployBi."""
    return f"Deploy{stack.logical_id}"


def condition(stack: StackTemplate) -> str:
    return f"With{stack.logical_id}"


def parameters() -> dict[str, dict[str, Any]]:
    """The union of the parts' parameters. A part's required parameter stays required in the entry stack only if
    the part is always deployed; an optional part's gets an empty default (it is given when the part is asked for)."""
    union: dict[str, dict[str, Any]] = {}
    meanings: dict[str, tuple[str, dict[str, Any]]] = {}
    for stack in STACKS:
        for name, declared in load(stack.template).get("Parameters", {}).items():
            meaning = {key: declared.get(key) for key in _MEANING}
            if name in meanings:
                if meaning != meanings[name][1]:
                    raise TemplateError(
                        f"parameter {name}: {stack.template} {meaning}, {meanings[name][0]} {meanings[name][1]}"
                    )
                continue
            meanings[name] = (stack.template, meaning)
            union[name] = dict(declared)
            if stack.optional and "Default" not in declared:
                union[name]["Default"] = ""
    return union


def _strings(value: Any) -> set[str]:
    """The literal text in an export name or an import value: the `!Sub` string (or a plain string)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return {sub if isinstance(sub, str) else str(sub[0])}
    return set()


def _imports(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = _strings(value["Fn::ImportValue"]) if "Fn::ImportValue" in value else set()
        return found.union(*(_imports(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_imports(item) for item in value))
    return set()


def imported_parts() -> dict[str, set[str]]:
    """For each part, the parts whose exports it imports."""
    exporter: dict[str, str] = {}
    for stack in STACKS:
        for output in load(stack.template).get("Outputs", {}).values():
            for name in _strings(output.get("Export", {}).get("Name")):
                exporter[name] = stack.part
    result = {}
    for stack in STACKS:
        imported = _imports(load(stack.template)["Resources"])
        unknown = {name for name in imported if name not in exporter}
        if unknown:
            raise TemplateError(f"{stack.template} imports what no part exports: {sorted(unknown)}")
        result[stack.part] = {exporter[name] for name in imported} - {stack.part}
    return result


def _passed(name: str, declared: dict[str, Any]) -> Any:
    """A parameter as the nested stack takes it: strings only, so a list parameter goes joined by commas."""
    kind = str(declared.get("Type", "String"))
    if kind == "CommaDelimitedList" or kind.startswith("List<"):
        return {"Fn::Join": [",", {"Ref": name}]}
    return {"Ref": name}


def template() -> dict[str, Any]:
    params = parameters()
    switches = {
        deploy_parameter(stack): {
            "Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
            "Description": f"Deploy the optional {stack.part} part ({stack.template}).",
        }
        for stack in STACKS if stack.optional
    }  # fmt: skip
    url = {
        TEMPLATES_URL: {
            "Type": "String",
            "Description": "Where `spapi-lake deploy` uploaded the part templates: https://<artifacts bucket>.s3."
            "<region>.amazonaws.com/cloudformation/<version>; each part is <TemplatesUrl>/<part>.template.",
        }
    }
    resources = {}
    for stack in STACKS:
        declared = load(stack.template).get("Parameters", {})
        resource: dict[str, Any] = {"Type": "AWS::CloudFormation::Stack"}
        if stack.optional:
            resource["Condition"] = condition(stack)
        after = [earlier.logical_id for earlier in STACKS[: STACKS.index(stack)] if not earlier.optional]
        if after:
            resource["DependsOn"] = after
        resource["Properties"] = {
            "TemplateURL": {"Fn::Sub": f"${{{TEMPLATES_URL}}}/{stack.part}.template"},
            "Parameters": {name: _passed(name, spec) for name, spec in declared.items()},
        }
        resources[stack.logical_id] = resource
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "spapi-lake: the entry stack. Every part (storage, ingestion, curation, governance, operations; "
        "optionally warehouse and BI) as a nested stack; deployed by `spapi-lake deploy` (make deploy), rendered by "
        "`python -m deployment.main_template`.",
        "Parameters": url | switches | params,
        "Conditions": {
            condition(stack): {"Fn::Equals": [{"Ref": deploy_parameter(stack)}, "true"]}
            for stack in STACKS if stack.optional
        },
        "Resources": resources,
    }  # fmt: skip


def template_yaml() -> str:
    header = "# Rendered from the part templates by `python -m deployment.main_template`: do not edit by hand.\n"
    return header + yaml.dump(template(), Dumper=_NoAliases, sort_keys=False, width=120)


if __name__ == "__main__":
    sys.stdout.write(template_yaml())
