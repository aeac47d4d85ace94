"""Every function's errors, every dead-letter queue, the send queue's age, the stats stream's
lag and the API's server errors raise an alarm on the stack's alarm topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from outreach_local.template import load_template

TOPIC = [{"Ref": "AlarmTopic"}]


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in load_template()["Resources"].items() if v["Type"] == kind}


def alarms() -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources("AWS::CloudWatch::Alarm").items()}


def watched(namespace: str, metric: str, dimension: dict[str, Any]) -> list[dict[str, Any]]:
    """The alarms on ``namespace``/``metric`` whose one dimension's value is ``dimension``."""
    return [
        props
        for props in alarms().values()
        if props["Namespace"] == namespace
        and props["MetricName"] == metric
        and [d["Value"] for d in props.get("Dimensions", [])] == [dimension]
    ]


def test_every_alarm_notifies_the_alarm_topic() -> None:
    assert alarms()
    for name, props in alarms().items():
        assert props["AlarmActions"] == TOPIC, name
        assert props["AlarmDescription"], name


@pytest.mark.parametrize("function", sorted(resources("AWS::Serverless::Function")))
def test_every_function_has_an_errors_alarm(function: str) -> None:
    found = watched("AWS/Lambda", "Errors", {"Ref": function})
    assert found, f"no Errors alarm for {function}"
    assert found[0]["Dimensions"][0]["Name"] == "FunctionName"


def _dead_letter_queues() -> set[str]:
    """Every queue the template names as a dead-letter queue or a failure destination."""
    text = json.dumps(load_template()["Resources"])
    queues = set()
    for logical_id in resources("AWS::SQS::Queue"):
        arn = json.dumps({"Fn::GetAtt": [logical_id, "Arn"]})
        for key in ('"deadLetterTargetArn": ', '"Arn": ', '"Destination": '):
            if key + arn in text:
                queues.add(logical_id)
    return queues


def test_every_dead_letter_queue_has_an_alarm() -> None:
    queues = _dead_letter_queues()
    assert {"SendDeadLetterQueue", "SchedulerDeadLetterQueue", "InboundDeadLetterQueue"} <= queues
    for queue in queues:
        found = watched(
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": [queue, "QueueName"]}
        )
        assert found, f"no alarm on dead-letter queue {queue}"
        assert found[0]["Threshold"] == 0


@pytest.mark.parametrize(
    ("namespace", "metric", "dimension"),
    [
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", {"Fn::GetAtt": ["SendQueue", "QueueName"]}),
        (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"Fn::GetAtt": ["InboundDeadLetterQueue", "QueueName"]},
        ),
        ("AWS/Lambda", "IteratorAge", {"Ref": "StatsFunction"}),
        ("AWS/ApiGateway", "5xx", {"Ref": "HttpApi"}),
    ],
    ids=["send-queue-age", "inbound-dead-letters", "stats-iterator-age", "api-5xx"],
)
def test_the_named_alarms_exist(namespace: str, metric: str, dimension: dict[str, Any]) -> None:
    found = watched(namespace, metric, dimension)
    assert len(found) == 1, (namespace, metric, dimension)
    assert found[0]["AlarmActions"] == TOPIC
