"""The entry stack is rendered from the part templates: a parameter means one thing everywhere, optional parts
are switched, and the offline deployment can set only what main.yaml declares."""

import pytest

from deployment import main_template
from deployment.errors import DeploymentError, TemplateError
from deployment.stacks import main_parameters
from deployment.templates import STACKS, load


def test_every_part_parameter_reaches_its_part_and_only_its_part():
    template = main_template.template()
    for stack in STACKS:
        nested = template["Resources"][stack.logical_id]
        assert set(nested["Properties"]["Parameters"]) == set(load(stack.template).get("Parameters", {}))
        assert nested["Properties"]["TemplateURL"] == {"Fn::Sub": f"${{TemplatesUrl}}/{stack.part}.template"}
        assert ("Condition" in nested) == stack.optional
    # an optional part's required parameter is not required of every deployment
    assert template["Parameters"]["QuickSightPrincipalArn"]["Default"] == ""
    assert "Default" not in template["Parameters"]["DeployerArn"]
    # nothing waits for an optional part (DependsOn a resource whose condition is false fails the stack)
    optional = {s.logical_id for s in STACKS if s.optional}
    assert not any(optional & set(r.get("DependsOn", [])) for r in template["Resources"].values())


def test_a_parameter_two_parts_declare_differently_cannot_be_rendered(monkeypatch):
    real = main_template.load

    def with_conflict(name: str) -> dict:
        template = real(name)
        if name == "curation.yaml":
            template["Parameters"]["Prefix"] = {**template["Parameters"]["Prefix"], "Default": "other"}
        return template

    monkeypatch.setattr(main_template, "load", with_conflict)
    with pytest.raises(TemplateError, match="parameter Prefix"):
        main_template.parameters()


def test_a_setting_main_yaml_does_not_declare_is_refused_by_name():
    with pytest.raises(DeploymentError, match="NoSuchParameter"):
        main_parameters("p", "b", "https://b.s3.amazonaws.com/t", None, DeployerArn="arn:x", NoSuchParameter="1")
    given = main_parameters("p", "b", "https://b.s3.amazonaws.com/t", None, DeployerArn="arn:x", MaxCapacity="64")
    assert given["MaxCapacity"] == "64" and given["TemplatesUrl"] == "https://b.s3.amazonaws.com/t"
