"""A PATCH that meets another transaction on its contact (DynamoDB's
``TransactionConflict``, e.g. a bulk tag change at that instant) is a 409 "changed
meanwhile", never a 500.

moto never cancels a transaction for a conflict, so DynamoDB's answer is injected at
the SDK's edge: a ``before-call`` hook answers ``TransactWriteItems`` with the
``TransactionCanceledException`` DynamoDB sends, cancellation reasons included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from outreach.data.binding import transaction_connection
from outreach_local.runtime import LocalLambdaContext
from tests.integration.identity_support import Account
from tests.support.api import ApiClient


@pytest.fixture
def api(aws: None, lambda_context: LocalLambdaContext) -> ApiClient:
    return ApiClient("contacts", lambda_context)


@pytest.fixture
def conflicting_transactions() -> Iterator[None]:
    """Every TransactWriteItems is cancelled as DynamoDB cancels one that meets another."""
    events = transaction_connection().client.meta.events

    def cancel(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        items = (
            params["body"].get("TransactItems", []) if isinstance(params.get("body"), dict) else []
        )
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
        ]
        reasons += [{"Code": "None"}] * max(0, len(items) - 1)
        error = {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for "
                "specific reasons [TransactionConflict]",
            },
            "CancellationReasons": reasons,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return _Http(400), error

    events.register_first("before-call.dynamodb.TransactWriteItems", cancel)  # type: ignore[arg-type]
    try:
        yield
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", cancel)  # type: ignore[arg-type]


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}


def test_a_patch_meeting_another_transaction_is_a_409(
    api: ApiClient, owner: Account, request: pytest.FixtureRequest
) -> None:
    created = api.call("POST", "/v1/contacts", headers=owner.auth, body={"phone": "+16175550100"})
    assert created.status == 201
    request.getfixturevalue("conflicting_transactions")
    patched = api.call(
        "PATCH",
        f"/v1/contacts/{created.json()['id']}",
        headers=owner.auth,
        body={"tags": ["vip"]},
    )
    assert "changed meanwhile" in patched.assert_problem(409)["detail"]
