"""The local stack's TransactWriteItems (outreach_local.transactions) against moto's own.

The same transactions (committed, cancelled by a condition, refused as invalid) on
the same tables give the same answers, items and stream records with and without
the wrapper; with it, a transaction on a large table costs what its items cost,
and concurrent transactions never interleave.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.model_instances import model_data
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from outreach_local import transactions

REGION = "us-east-1"


@pytest.fixture
def wrapped(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The wrapper installed for one test; moto as it was afterwards."""
    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items
    )
    monkeypatch.setattr(Table, "__deepcopy__", None, raising=False)
    monkeypatch.delattr(Table, "__deepcopy__")
    for model in model_data["dynamodb"].values():
        monkeypatch.setattr(model, "instances_tracked", model.instances_tracked)  # type: ignore[attr-defined]
    transactions.install()
    yield


def make_tables(client: Any, rows: int) -> None:
    client.create_table(
        TableName="ranged",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    client.create_table(
        TableName="hashed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for start in range(0, rows, 25):  # BatchWriteItem's most
        batch = range(start, min(start + 25, rows))
        client.batch_write_item(
            RequestItems={
                "ranged": [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": "org"},
                                "sk": {"S": f"c{i:05d}"},
                                "n": {"N": "0"},
                                "tags": {"SS": ["a", "b"]},
                                "attrs": {"M": {"k": {"L": [{"S": "v"}]}}},
                            }
                        }
                    }
                    for i in batch
                ],
                "hashed": [
                    {"PutRequest": {"Item": {"pk": {"S": f"h{i:05d}"}, "n": {"N": "0"}}}}
                    for i in batch
                ],
            }
        )


def ranged(sk: str) -> dict[str, Any]:
    return {"pk": {"S": "org"}, "sk": {"S": sk}}


# Each: the TransactItems of one call. Every one names items of both tables.
SCENARIOS: list[list[dict[str, Any]]] = [
    # Committed: updates, a put, a delete, a condition check that holds.
    [
        {
            "Update": {
                "TableName": "ranged",
                "Key": ranged("c00001"),
                "UpdateExpression": "SET n = n + :one ADD tags :c",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":c": {"SS": ["c"]}},
            }
        },
        {"Put": {"TableName": "ranged", "Item": {**ranged("new"), "n": {"N": "7"}}}},
        {"Delete": {"TableName": "hashed", "Key": {"pk": {"S": "h00002"}}}},
        {
            "ConditionCheck": {
                "TableName": "hashed",
                "Key": {"pk": {"S": "h00003"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ],
    # Cancelled by its last condition, after writes to both tables.
    [
        {
            "Update": {
                "TableName": "ranged",
                "Key": ranged("c00004"),
                "UpdateExpression": "SET n = :nine REMOVE attrs",
                "ExpressionAttributeValues": {":nine": {"N": "9"}},
            }
        },
        {"Delete": {"TableName": "ranged", "Key": ranged("c00005")}},
        {"Put": {"TableName": "hashed", "Item": {"pk": {"S": "fresh"}}}},
        {
            "Update": {
                "TableName": "hashed",
                "Key": {"pk": {"S": "h00006"}},
                "UpdateExpression": "SET n = :one",
                "ConditionExpression": "n = :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ],
    # Refused as invalid: two operations on one item (after a first write).
    [
        {"Delete": {"TableName": "ranged", "Key": ranged("c00007")}},
        {
            "Update": {
                "TableName": "hashed",
                "Key": {"pk": {"S": "h00008"}},
                "UpdateExpression": "SET n = :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "ranged",
                "Key": ranged("c00007"),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ],
    # Cancelled: a condition on an item that does not exist.
    [
        {"Put": {"TableName": "ranged", "Item": {**ranged("c00009"), "n": {"N": "3"}}}},
        {
            "ConditionCheck": {
                "TableName": "hashed",
                "Key": {"pk": {"S": "missing"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ],
]


def run_scenarios() -> dict[str, Any]:
    """Every scenario on fresh tables; the answers, both tables and the stream records."""
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name=REGION)  # scenarios are plain dicts
        make_tables(client, 20)
        answers: list[Any] = []
        for scenario in SCENARIOS:
            try:
                client.transact_write_items(TransactItems=scenario)
                answers.append("ok")
            except ClientError as error:
                answers.append(
                    (
                        error.response["Error"]["Code"],
                        error.response.get("CancellationReasons"),
                    )
                )
        tables = {
            name: sorted(
                client.scan(TableName=name, ConsistentRead=True)["Items"],
                key=lambda item: (item["pk"]["S"], item.get("sk", {}).get("S", "")),
            )
            for name in ("ranged", "hashed")
        }
        # botocore would address the stream ARN's account endpoint, which moto does not serve.
        streams = boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            config=Config(account_id_endpoint_mode="disabled"),
        )
        arn = client.describe_table(TableName="ranged")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = [
            (r["eventName"], r["dynamodb"]["Keys"], r["dynamodb"].get("NewImage"))
            for r in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
        ]
        return {"answers": answers, "tables": tables, "stream": records}


def test_the_wrapper_answers_and_writes_exactly_what_moto_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = run_scenarios()
    assert plain["answers"][0] == "ok"
    assert plain["answers"][1][0] == "TransactionCanceledException"
    assert plain["answers"][2][0] == "ValidationException"
    assert plain["answers"][3][0] == "TransactionCanceledException"

    monkeypatch.setattr(
        DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items
    )
    monkeypatch.setattr(Table, "__deepcopy__", None, raising=False)
    monkeypatch.delattr(Table, "__deepcopy__")
    transactions.install()
    assert getattr(DynamoDBBackend.transact_write_items, "__outreach_local__", False)
    assert run_scenarios() == plain


def test_a_transaction_on_a_large_table_costs_its_own_items(wrapped: None) -> None:
    """100 updates to a table of 3,000 items: moto alone copies the table 100 times
    (about 25 s here); the wrapper, its index once and 100 items."""
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name=REGION)
        make_tables(client, 3000)
        items = [
            {
                "Update": {
                    "TableName": "ranged",
                    "Key": ranged(f"c{i:05d}"),
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
            for i in range(0, 3000, 30)
        ]
        started = time.perf_counter()
        client.transact_write_items(TransactItems=items)
        elapsed = time.perf_counter() - started
        assert elapsed < 5.0, elapsed  # about 0.2 s here alone; moto alone, 25 s
        item = client.get_item(TableName="ranged", Key=ranged("c00030"))["Item"]
        assert item["n"] == {"N": "1"}


def test_replaced_items_and_backups_are_freed(wrapped: None) -> None:
    """20 transactions, each updating 50 of 2,000 items, then the same again: the second
    round leaves no memory behind (moto alone keeps every item it built and every table
    it copied, about 3 MB a round here)."""
    with mock_aws():
        client: Any = boto3.client("dynamodb", region_name=REGION)
        make_tables(client, 2000)

        def one_round() -> None:
            for start in range(0, 1000, 50):
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": "hashed",
                                "Key": {"pk": {"S": f"h{i:05d}"}},
                                "UpdateExpression": "SET n = n + :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        }
                        for i in range(start, start + 50)
                    ]
                )

        one_round()  # moto's and botocore's caches filled
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            one_round()
            gc.collect()
            left = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert left < 500_000, f"{left:,} bytes left behind by one round"
        item = client.get_item(TableName="hashed", Key={"pk": {"S": "h00999"}})["Item"]
        assert item["n"] == {"N": "2"}


@pytest.fixture
def threaded_server(wrapped: None) -> Iterator[Any]:
    """moto's threaded server, as the local stack runs it, and a client of it."""
    from moto.server import ThreadedMotoServer

    with mock_aws():  # a fresh, empty moto for the server's backends, reset afterwards
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield boto3.client("dynamodb", region_name=REGION, endpoint_url=f"http://{host}:{port}")
        finally:
            server.stop()


@pytest.mark.loopback
@pytest.mark.enable_socket
def test_concurrent_transactions_never_interleave(threaded_server: Any) -> None:
    """On the threaded server, eight threads each add 1 to one counter 15 times by
    read-then-conditional-write transactions (retrying a failed condition) while a
    ninth keeps sending transactions of 61 items that roll back: the counter ends at exactly 120,
    no increment undone by another transaction's rollback."""
    client = threaded_server
    make_tables(client, 1)
    stop = threading.Event()
    errors: list[BaseException] = []
    counter = {"pk": {"S": "h00000"}}

    def increment() -> None:
        try:
            done = 0
            while done < 15:
                item = client.get_item(TableName="hashed", Key=counter, ConsistentRead=True)
                current = item["Item"]["n"]["N"]
                try:
                    client.transact_write_items(
                        TransactItems=[
                            {
                                "Update": {
                                    "TableName": "hashed",
                                    "Key": counter,
                                    "UpdateExpression": "SET n = :next",
                                    "ConditionExpression": "n = :current",
                                    "ExpressionAttributeValues": {
                                        ":current": {"N": current},
                                        ":next": {"N": str(int(current) + 1)},
                                    },
                                }
                            }
                        ]
                    )
                    done += 1
                except ClientError as error:
                    assert error.response["Error"]["Code"] == "TransactionCanceledException"
        except BaseException as error:
            errors.append(error)

    def roll_back() -> None:
        while not stop.is_set():
            with contextlib.suppress(ClientError):
                client.transact_write_items(
                    TransactItems=[
                        *(
                            {"Put": {"TableName": "hashed", "Item": {"pk": {"S": f"noise{i}"}}}}
                            for i in range(60)
                        ),
                        {
                            "ConditionCheck": {
                                "TableName": "hashed",
                                "Key": {"pk": {"S": "missing"}},
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                    ]
                )

    noise = threading.Thread(target=roll_back)
    noise.start()
    threads = [threading.Thread(target=increment) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    noise.join(timeout=30)
    assert errors == []
    assert client.get_item(TableName="hashed", Key=counter)["Item"]["n"] == {"N": "120"}
    assert "Item" not in client.get_item(TableName="hashed", Key={"pk": {"S": "noise0"}})
