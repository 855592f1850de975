"""The CloudFormation templates as `make deploy` ships them: state machine definitions inlined from the ASL files.

On AWS, `make deploy` uploads the ASL files and the templates point at them (DefinitionS3Location). For a deployment
to moto's CloudFormation, and for anyone who prefers one self-contained template, `packaged()` inlines each
definition as `DefinitionString: !Sub [<ASL text>, <DefinitionSubstitutions>]`, which CloudFormation resolves the
same way (moto ignores DefinitionSubstitutions but resolves Fn::Sub).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "cloudformation"
STATE_MACHINES = ROOT / "ingestion_lambdas" / "statemachines"


def load(name: str) -> dict[str, Any]:
    template, problems = decode_str((TEMPLATES / name).read_text(encoding="utf-8"))
    if problems or template is None:
        raise ValueError(f"{name}: {problems}")
    return dict(json.loads(json.dumps(template)))  # plain dicts and lists


def packaged(name: str) -> str:
    """The template as JSON, with every DefinitionS3Location replaced by the ASL file's text."""
    template = load(name)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        location = properties.pop("DefinitionS3Location", None)
        if location is not None:
            asl = STATE_MACHINES / str(location["Key"]).rsplit("/", 1)[-1]
            substitutions = properties.pop("DefinitionSubstitutions", {})
            properties["DefinitionString"] = {"Fn::Sub": [asl.read_text(encoding="utf-8"), substitutions]}
    return json.dumps(template)
