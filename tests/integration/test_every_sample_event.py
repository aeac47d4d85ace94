"""Every sample event in infra/events/ is answered in-process by each function that receives it.

Which function receives which event is decided as in the Lambda-like load of
`make deploy-check` (infra/lambda_load.py): by the function's event sources in
template.yaml (API routes by path, SQS events by queue). That script also fails
when an event fits no function or a function has no event.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

import pytest

from outreach.config import get_settings
from outreach_local.runtime import LocalLambdaContext
from outreach_local.template import REPO_ROOT, load_template
from tests.support.iam_replay import function_handler


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("lambda_load", REPO_ROOT / "infra/lambda_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


LAMBDA_LOAD = _load_script()
TARGETS = LAMBDA_LOAD.targets(load_template())
CASES = [(target, event) for target in TARGETS for event in target.events]
# Resolved by the test stack's own fixtures (a moto queue and bucket, the test signing key).
FIXTURE_VARIABLES = {"JWT_SECRET_ARN", "SEND_QUEUE_URL", "IMPORTS_BUCKET"}


def folder(logical_id: str) -> str:
    code_uri: str = load_template()["Resources"][logical_id]["Properties"]["CodeUri"]
    return code_uri.strip("/").split("/")[-1]


def test_every_event_file_reaches_a_function() -> None:
    events = {path.name for path in (REPO_ROOT / "infra/events").glob("*.json")}
    assert {event for _, event in CASES} == events
    assert {target.logical_id for target in TARGETS} == {
        k
        for k, v in load_template()["Resources"].items()
        if v["Type"] == "AWS::Serverless::Function"
    }


@pytest.mark.usefixtures("send_queue", "imports_bucket")
@pytest.mark.parametrize(
    ("target", "event_name"), CASES, ids=[f"{t.logical_id}-{e}" for t, e in CASES]
)
def test_function_answers_its_sample_event(
    target: Any,
    event_name: str,
    lambda_context: LocalLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = load_template()["Resources"][target.logical_id]["Properties"]
    for name in own.get("Environment", {}).get("Variables", {}):
        if name not in FIXTURE_VARIABLES:
            monkeypatch.setenv(name, target.env[name])
    get_settings.cache_clear()
    event = json.loads((REPO_ROOT / "infra/events" / event_name).read_text())

    answer = function_handler(folder(target.logical_id))(event, lambda_context)

    assert isinstance(answer, dict)
    if "statusCode" in answer:
        # An authenticated route without a valid token answers 401: an answer, not a crash.
        assert answer["statusCode"] < 500, answer
    assert not answer.get("batchItemFailures"), answer
