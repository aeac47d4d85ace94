"""One botocore session and one DynamoDB client per process (outreach.aws).

A client from a new botocore session costs 120-140 ms of a cold start, one more from the
same session 6-11 ms (bench/cold_start.py's load); PynamoDB alone would make one session
per model class and thread, boto3 another.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
import pytest

from outreach import aws as outreach_aws
from outreach.data.binding import transaction_connection
from outreach.data.models import ALL_MODELS, ContactModel, CounterModel, OrganizationModel


@pytest.fixture
def sessions_made(monkeypatch: pytest.MonkeyPatch) -> list[botocore.session.Session]:
    made: list[botocore.session.Session] = []
    original = botocore.session.get_session

    def counting(*args: Any, **kwargs: Any) -> botocore.session.Session:
        session = original(*args, **kwargs)
        made.append(session)
        return session

    # The session is made on first use (tests start with none cached: tests/conftest.py).
    monkeypatch.setattr(botocore.session, "get_session", counting)
    return made


def test_every_table_and_client_shares_one_session(
    aws: None, sessions_made: list[botocore.session.Session]
) -> None:
    # Given calls on three tables, from two threads, and two boto3 clients,
    answers: list[tuple[int, int, int]] = []

    def touch() -> None:
        found = (OrganizationModel.count(), len(list(ContactModel.query("ORG1"))))
        answers.append((*found, CounterModel.count("nothing")))

    threads = [threading.Thread(target=touch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(0, 0, 0), (0, 0, 0)]
    sqs = aws_client("sqs")
    secrets = aws_client("secretsmanager")
    # then one botocore session was made for all of them,
    assert len(sessions_made) == 1
    session = sessions_made[0]
    assert sqs._loader is secrets._loader is session.get_component("data_loader")
    # and every model (transactions too) talks through one connection and one client.
    connections = {id(model._get_connection().connection) for model in ALL_MODELS}
    assert connections == {id(transaction_connection())}
    client = transaction_connection().client
    assert client is OrganizationModel._get_connection().connection.client
    assert client._loader is session.get_component("data_loader")  # type: ignore[attr-defined]


def aws_client(service: str) -> Any:
    return outreach_aws.client(service, region_name="us-east-1")


def test_clients_are_botocores_and_boto3_is_never_loaded() -> None:
    # boto3's import and session cost about 18 ms of a cold start for nothing the
    # functions use: a fresh interpreter makes every kind of client without loading it.
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = (
        "import sys\n"
        "from outreach import aws\n"
        "for service in ('sqs', 'secretsmanager', 'sns', 'pinpoint-sms-voice-v2', 's3'):\n"
        "    client = aws.client(service, region_name='us-east-1')\n"
        "    assert type(client).__module__ == 'botocore.client', type(client)\n"
        "assert aws.SharedSessionConnection().client is not None\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'boto3'))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={
            "PYTHONPATH": str(root / "layers/outreach/python"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # a stand-in: nothing is called
            "AWS_DEFAULT_REGION": "us-east-1",
        },
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
