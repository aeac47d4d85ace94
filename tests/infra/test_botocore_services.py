"""The dependencies layer keeps botocore's data for the services Outreach calls only
(layers/dependencies/botocore-services.txt; its Makefile prunes the rest): the list must
cover every client the code creates and every service a function's role allows, or a
deployed function fails with UnknownServiceError where the tests (on .venv's full
botocore) pass."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest
from infra.lambda_load import botocore_services, check_botocore_data

from tests.support.iam_replay import _function_logical_ids, policies

ROOT = Path(__file__).resolve().parents[2]
# IAM action prefixes that name no botocore service of ours: what the Lambda service
# does on the function's behalf with its role (its logs, its active tracing).
ON_THE_FUNCTIONS_BEHALF = {"logs", "xray"}
# IAM's prefix -> botocore's service name, where they differ.
BOTOCORE_NAME = {"sms-voice": "pinpoint-sms-voice-v2"}
CLIENT_CALL = re.compile(r"\bclient\(\s*\"([a-z0-9-]+)\"")
SMS_PROVIDERS = ("sandbox", "sns", "end_user_messaging")


def test_the_list_names_services_botocore_knows() -> None:
    known = set(botocore.session.get_session().get_available_services())
    listed = botocore_services()
    assert listed, "botocore-services.txt lists no service"
    assert listed <= known, f"not botocore services: {sorted(listed - known)}"


def test_every_client_the_code_creates_is_kept() -> None:
    sources = [
        *ROOT.joinpath("layers/outreach/python/outreach").rglob("*.py"),
        *ROOT.joinpath("functions").rglob("*.py"),
    ]
    created = {name for path in sources for name in CLIENT_CALL.findall(path.read_text())}
    # The scan must see the clients it guards (a changed call style would blind it).
    assert {"secretsmanager", "sqs", "s3", "sns", "pinpoint-sms-voice-v2"} <= created
    created.add("dynamodb")  # PynamoDB's client (outreach.aws.SharedSessionConnection)
    assert created <= botocore_services(), (
        f"clients of services the layer drops: {sorted(created - botocore_services())}"
    )


def test_every_service_a_functions_role_allows_is_kept() -> None:
    allowed: dict[str, set[str]] = {}
    for function in _function_logical_ids():
        for provider in SMS_PROVIDERS:
            _, statements = policies(function, "outreach-test", provider)
            for statement in statements:
                if statement.effect != "Allow":
                    continue
                for action in statement.actions:
                    prefix = action.split(":", 1)[0].lower()
                    allowed.setdefault(BOTOCORE_NAME.get(prefix, prefix), set()).add(function)
    assert {"dynamodb", "pinpoint-sms-voice-v2", "secretsmanager"} <= set(allowed)
    missing = set(allowed) - ON_THE_FUNCTIONS_BEHALF - botocore_services()
    assert not missing, {service: sorted(allowed[service]) for service in missing}


def _layer(tmp_path: Path, services: set[str]) -> Path:
    data = tmp_path / "python" / "botocore" / "data"
    data.mkdir(parents=True)
    (data / "endpoints.json").write_text("{}")
    for service in services:
        (data / service / "2020-01-01").mkdir(parents=True)
    return tmp_path / "python"


def test_a_built_layer_must_hold_exactly_the_listed_services(tmp_path: Path) -> None:
    check_botocore_data("DependenciesLayer", _layer(tmp_path / "ok", botocore_services()))
    with pytest.raises(SystemExit, match=r"holds \['ec2'\] beyond"):
        check_botocore_data(
            "DependenciesLayer", _layer(tmp_path / "more", {*botocore_services(), "ec2"})
        )
    with pytest.raises(SystemExit, match=r"lacks \['sqs'\]"):
        check_botocore_data(
            "DependenciesLayer", _layer(tmp_path / "less", botocore_services() - {"sqs"})
        )
    check_botocore_data("OutreachLayer", tmp_path / "no-botocore")  # no botocore: nothing to check


def test_the_layer_build_keeps_only_the_listed_services() -> None:
    makefile = ROOT.joinpath("layers/dependencies/Makefile").read_text()
    assert "botocore-services.txt" in makefile
    assert "botocore/data/*/" in makefile
