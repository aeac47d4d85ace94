"""The shared condition evaluator (outreach_local.cfn) on template.yaml's conditions.

``infra/lambda_load.py`` and the IAM replay (tests/support/iam_replay.py) both evaluate
the template's conditions through :class:`outreach_local.cfn.Conditions`; each of
template.yaml's conditions is checked with the default parameters and with the ones
the tests deploy with, through the evaluator and through both of its users.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import pytest

from outreach_local.cfn import Conditions, text
from outreach_local.template import REPO_ROOT, load_template
from tests.support import iam_replay

TEMPLATE = load_template()
CONDITIONS = ("UseSnsSms", "UseEndUserMessagingSms", "HasAlarmEmail", "HasConfigurationSetName")
NONE = dict.fromkeys(CONDITIONS, False)
# Parameter overrides (on the defaults) -> the conditions that hold.
CASES: list[tuple[str, dict[str, str], set[str]]] = [
    ("defaults", {}, set()),
    # The SAM stack test's and the IAM replay's parameters, for each SMS provider.
    ("test-sandbox", {"Stage": "test", "SmsProvider": "sandbox"}, set()),
    ("test-sns", {"Stage": "test", "SmsProvider": "sns"}, {"UseSnsSms"}),
    (
        "test-end-user-messaging",
        {"Stage": "test", "SmsProvider": "end_user_messaging"},
        {"UseEndUserMessagingSms"},
    ),
    (
        "alarm-email-and-configuration-set",
        {"AlarmEmail": "ops@example.com", "SmsConfigurationSetName": "outreach-sms"},
        {"HasAlarmEmail", "HasConfigurationSetName"},
    ),
]
IDS = [name for name, _, _ in CASES]


def _parameters(overrides: dict[str, str]) -> dict[str, Any]:
    defaults = {
        name: spec.get("Default", "") for name, spec in TEMPLATE.get("Parameters", {}).items()
    }
    return {**defaults, **overrides}


def _load_lambda_load() -> Any:
    name = "lambda_load_conditions"
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "infra/lambda_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_the_cases_cover_every_condition_of_the_template() -> None:
    assert set(TEMPLATE["Conditions"]) == set(CONDITIONS)


@pytest.mark.parametrize(("overrides", "holds"), [c[1:] for c in CASES], ids=IDS)
def test_template_conditions_through_the_shared_evaluator(
    overrides: dict[str, str], holds: set[str]
) -> None:
    parameters = _parameters(overrides)

    def resolve(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return parameters[node["Ref"]]
        return node

    conditions = Conditions(TEMPLATE["Conditions"], resolve)
    assert {name: conditions.condition(name) for name in CONDITIONS} == {
        **NONE,
        **dict.fromkeys(holds, True),
    }


@pytest.mark.parametrize(("overrides", "holds"), [c[1:] for c in CASES], ids=IDS)
def test_template_conditions_in_lambda_load_and_the_iam_replay(
    overrides: dict[str, str], holds: set[str]
) -> None:
    expected = {**NONE, **dict.fromkeys(holds, True)}
    load_resolver = _load_lambda_load().Resolver(TEMPLATE)
    load_resolver.parameters.update(overrides)
    replay_resolver = iam_replay.Resolver(TEMPLATE, "outreach-test", overrides)
    for resolver in (load_resolver, replay_resolver):
        assert isinstance(resolver.conditions, Conditions)
        assert {name: resolver.condition(name) for name in CONDITIONS} == expected


def test_the_transformed_template_keeps_the_conditions() -> None:
    """The IAM replay evaluates the SAM-transformed template's conditions."""
    from tests.infra.test_sam_stack import transformed

    assert transformed()["Conditions"] == TEMPLATE["Conditions"]


# --- The evaluator's rules -----------------------------------------------------------------


def _literal(node: Any) -> Any:
    return node


def test_equals_compares_resolved_values_as_strings() -> None:
    conditions = Conditions(
        {
            "Number": {"Fn::Equals": [30, "30"]},
            "Bool": {"Fn::Equals": [True, "true"]},
            "Different": {"Fn::Equals": ["a", "b"]},
        },
        _literal,
    )
    assert conditions.condition("Number")
    assert conditions.condition("Bool")
    assert not conditions.condition("Different")
    assert text(False) == "false"


def test_not_and_or_and_references_to_conditions() -> None:
    yes, no = {"Fn::Equals": ["a", "a"]}, {"Fn::Equals": ["a", "b"]}
    conditions = Conditions(
        {
            "Yes": yes,
            "No": no,
            "Not": {"Fn::Not": [{"Condition": "No"}]},
            "And": {"Fn::And": [{"Condition": "Yes"}, {"Condition": "Not"}]},
            "AndFalse": {"Fn::And": [yes, no]},
            "Or": {"Fn::Or": [no, {"Ref": "Yes"}]},  # Ref naming a condition
            "OrFalse": {"Fn::Or": [no, no]},
        },
        _literal,
    )
    assert "Yes" in conditions
    assert "Missing" not in conditions
    expected = {
        "Yes": True,
        "No": False,
        "Not": True,
        "And": True,
        "AndFalse": False,
        "Or": True,
        "OrFalse": False,
    }
    assert {name: conditions.condition(name) for name in expected} == expected


@pytest.mark.parametrize(
    "node",
    [
        "true",
        {"Ref": "NotACondition"},
        {"Fn::Equals": ["a"]},
        {"Fn::Not": {"Condition": "Yes"}},
        {"Fn::And": [{"Condition": "Yes"}]},
        {"Fn::If": ["Yes", True, False]},
    ],
)
def test_what_is_not_a_condition_is_refused(node: Any) -> None:
    conditions = Conditions({"Yes": {"Fn::Equals": ["a", "a"]}, "Bad": node}, _literal)
    with pytest.raises(ValueError, match=r"unsupported condition|operands"):
        conditions.condition("Bad")


def test_unknown_and_circular_conditions_are_refused() -> None:
    conditions = Conditions(
        {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Fn::Not": [{"Condition": "A"}]}},
        _literal,
    )
    with pytest.raises(KeyError, match="Missing"):
        conditions.condition("Missing")
    with pytest.raises(ValueError, match="circular conditions: A -> B -> A"):
        conditions.condition("A")


def test_the_loader_reads_the_condition_tag_as_cloudformation_does(tmp_path: Any) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Conditions:\n  A: !Equals [!Ref P, x]\n  B: !Not [!Condition A]\nResources: {}\n"
    )
    template = load_template.__wrapped__(path)
    assert template["Conditions"]["B"] == {"Fn::Not": [{"Condition": "A"}]}
    assert Conditions(template["Conditions"], lambda node: "x").condition("B") is False
