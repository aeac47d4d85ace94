"""Every function's errors, every dead-letter queue, the send queue's age, the stats stream's
lag, the API's server errors and suppressed auto-replies raise an alarm on the stack's alarm
topic; an alarm on one of our own metrics watches the metric the code emits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from outreach.clock import SimulatedClock
from outreach.inbound.domain import InboundText
from outreach.inbound.service import InboundService
from outreach_local.template import load_template
from tests.support import builders
from tests.support.fakes.contacts import InMemoryOptOutList
from tests.support.fakes.counters import InMemoryCounters
from tests.support.fakes.identity import InMemoryIdentityStore
from tests.support.fakes.inbound import InMemoryInboundStore
from tests.support.fakes.sending import ScriptedProvider

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


def _emitted_metrics(output: str) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    """Every (namespace, metric, dimensions with their values) in the EMF printed."""
    emitted = set()
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                for names in directive["Dimensions"]:
                    dimensions = frozenset((name, document[name]) for name in names)
                    emitted.add((directive["Namespace"], metric["Name"], dimensions))
    return emitted


def test_the_suppressed_auto_replies_alarm_watches_what_the_inbound_function_emits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the environment template.yaml gives the inbound function
    template = load_template()
    globals_ = template["Globals"]["Function"]["Environment"]["Variables"]
    inbound = template["Resources"]["InboundFunction"]["Properties"]["Environment"]["Variables"]
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", globals_["POWERTOOLS_METRICS_NAMESPACE"])
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", inbound["POWERTOOLS_SERVICE_NAME"])
    # When the service suppresses an auto-reply (INFO from a country a US sender never texts)
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    organization = builders.organization(at=now, sender_number="+16175550100")
    identity, store = InMemoryIdentityStore(), InMemoryInboundStore()
    identity.organizations[organization.id] = organization
    store.own_number(organization.id, "+16175550100")
    provider = ScriptedProvider()
    service = InboundService(
        store=store,
        opt_outs=InMemoryOptOutList(),
        organizations=identity,
        provider=provider,
        counters=InMemoryCounters(),
        clock=SimulatedClock(now),
    )
    capsys.readouterr()
    service.handle_text(
        InboundText(from_number="+8613800138000", to_number="+16175550100", body="INFO")
    )
    assert provider.sent == []
    emitted = _emitted_metrics(capsys.readouterr().out)
    # Then the alarm watches a metric it emitted, in one of its dimension sets
    props = alarms()["AutoRepliesSuppressedAlarm"]
    watched_metric = (
        props["Namespace"],
        props["MetricName"],
        frozenset((d["Name"], d["Value"]) for d in props["Dimensions"]),
    )
    assert watched_metric in emitted
    assert (props["Statistic"], props["Period"], props["Threshold"]) == ("Sum", 300, 20)
