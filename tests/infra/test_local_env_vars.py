"""infra/local/env.json, the `sam local invoke/start-api --env-vars` file, fits the template.

SAM overrides only the variables the template declares for a function (Globals or
its own), so a name it lacks would be dropped silently; and a name no code reads
would be noise that looks like configuration.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from outreach.config import Settings
from outreach_local.template import REPO_ROOT, load_template

ENV_FILE = REPO_ROOT / "infra/local/env.json"

# What the Powertools objects of outreach.observability read at import.
POWERTOOLS_READS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_NAMESPACE",
}


def settings_reads() -> set[str]:
    """The environment variables :class:`outreach.config.Settings` reads."""
    return set(Settings.environment_variables().values())


def env_file() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads(ENV_FILE.read_text())
    return loaded


def functions() -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in load_template()["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def declared(resource: dict[str, Any]) -> set[str]:
    glob = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    own = resource["Properties"].get("Environment", {}).get("Variables", {})
    return set(glob) | set(own)


def test_env_file_names_every_function_of_the_template() -> None:
    assert set(env_file()) == set(functions())


@pytest.mark.parametrize("logical_id", sorted(functions()))
def test_env_file_sets_only_declared_variables_the_code_reads(logical_id: str) -> None:
    variables = env_file()[logical_id]
    assert variables, logical_id
    assert set(variables) <= declared(functions()[logical_id]), "SAM would drop these"
    assert set(variables) <= settings_reads() | POWERTOOLS_READS, "no code reads these"
    assert all(isinstance(value, str) for value in variables.values())


@pytest.mark.parametrize("logical_id", sorted(functions()))
def test_env_file_points_every_function_at_a_local_dynamodb(logical_id: str) -> None:
    variables = env_file()[logical_id]
    settings = Settings.from_environ(variables)
    assert settings.dynamodb_endpoint == "http://host.docker.internal:8000"
    assert settings.sms_provider == "sandbox"


def test_the_templates_empty_endpoint_means_aws() -> None:
    # Declared empty in Globals (for sam local); deployed, it must mean AWS's own endpoint.
    glob = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert glob["DYNAMODB_ENDPOINT"] == ""
    assert Settings(dynamodb_endpoint=glob["DYNAMODB_ENDPOINT"]).dynamodb_endpoint is None
