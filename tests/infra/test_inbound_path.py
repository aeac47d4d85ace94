"""The inbound path cannot lose a text: encrypted topics End User Messaging can use, SNS to
SQS to the inbound function, a dead-letter queue, and only the stack's own topics accepted."""

from __future__ import annotations

import json
from typing import Any

from outreach_local.template import load_template
from tests.infra.test_sam_stack import function_props, resources_of, transformed

TOPICS = ("InboundTextsTopic", "DeliveryEventsTopic")
TOPIC_REFS = [{"Ref": topic} for topic in TOPICS]


def resource(logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = transformed()["Resources"][logical_id]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_sms_topics_use_a_customer_managed_key_end_user_messaging_may_use() -> None:
    for topic in TOPICS:
        assert resource(topic)["Properties"]["KmsMasterKeyId"] == {"Ref": "SmsTopicsKey"}, topic
    key = resource("SmsTopicsKey")
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    admin = [s for s in statements if s["Principal"].get("AWS")]
    assert admin and admin[0]["Principal"]["AWS"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    }
    sms = [s for s in statements if s["Principal"].get("Service") == "sms-voice.amazonaws.com"]
    assert len(sms) == 1
    assert set(as_list(sms[0]["Action"])) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    condition = sms[0]["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert "${AWS::AccountId}" in condition["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    # No AWS service may use the key without the account condition.
    for statement in statements:
        if "Service" in statement["Principal"]:
            assert "aws:SourceAccount" in statement["Condition"]["StringEquals"], statement


def test_only_the_accounts_sms_resources_may_publish_to_the_topics() -> None:
    policy = resource("SmsTopicsPolicy")["Properties"]
    assert policy["Topics"] == TOPIC_REFS
    statements = policy["PolicyDocument"]["Statement"]
    published = []
    for statement in statements:
        assert statement["Principal"] == {"Service": "sms-voice.amazonaws.com"}
        assert statement["Action"] == "sns:Publish"
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {
            "Ref": "AWS::AccountId"
        }
        source_arn = statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
        assert source_arn.startswith("arn:${AWS::Partition}:sms-voice:${AWS::Region}:")
        published.extend(as_list(statement["Resource"]))
    assert sorted(json.dumps(r) for r in published) == sorted(json.dumps(r) for r in TOPIC_REFS)


def test_the_inbound_function_reads_the_inbound_queue_and_no_topic_directly() -> None:
    events = load_template()["Resources"]["InboundFunction"]["Properties"]["Events"]
    assert {event["Type"] for event in events.values()} == {"SQS"}
    mappings = [
        m["Properties"]
        for m in resources_of("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": "InboundFunction"}
    ]
    assert len(mappings) == 1
    assert mappings[0]["EventSourceArn"] == {"Fn::GetAtt": ["InboundQueue", "Arn"]}
    assert mappings[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # SNS may not invoke the function (an asynchronous invoke drops a STOP after retries).
    for permission in resources_of("AWS::Lambda::Permission").values():
        props = permission["Properties"]
        if props["FunctionName"] == {"Ref": "InboundFunction"}:
            assert props["Principal"] != "sns.amazonaws.com"
    for subscription in resources_of("AWS::SNS::Subscription").values():
        assert subscription["Properties"]["Protocol"] != "lambda"


def test_the_inbound_queue_dead_letters_after_retries_and_outlasts_the_function() -> None:
    queue = resource("InboundQueue")["Properties"]
    assert queue.get("FifoQueue") is not True
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["InboundDeadLetterQueue", "Arn"]}
    assert 3 <= redrive["maxReceiveCount"] <= 10
    # AWS: an SQS event source's visibility timeout is at least 6 x the function's timeout.
    assert queue["VisibilityTimeout"] >= 6 * function_props("InboundFunction")["Timeout"]
    dead_letters = resource("InboundDeadLetterQueue")["Properties"]
    # A standard queue's message keeps its first enqueue time when it is dead-lettered.
    assert dead_letters["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]
    for props in (queue, dead_letters):
        assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId")


def test_only_the_sms_topics_may_send_to_the_inbound_queue_keeping_the_envelope() -> None:
    policy = resource("InboundQueuePolicy")["Properties"]
    assert policy["Queues"] == [{"Ref": "InboundQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == TOPIC_REFS
    subscriptions = [
        s
        for s in resources_of("AWS::SNS::Subscription").values()
        if s["Properties"]["TopicArn"] in TOPIC_REFS
    ]
    assert len(subscriptions) == 2
    for subscription in subscriptions:
        assert subscription["Properties"]["Protocol"] == "sqs"
        assert subscription["Properties"]["Endpoint"] == {"Fn::GetAtt": ["InboundQueue", "Arn"]}
        # Raw delivery off: the record keeps TopicArn, which the function checks.
        assert subscription["Properties"]["RawMessageDelivery"] is False
        assert subscription["DependsOn"] == "InboundQueuePolicy"


def test_the_inbound_function_is_told_its_own_topics() -> None:
    variables = function_props("InboundFunction")["Environment"]["Variables"]
    assert variables["INBOUND_TEXTS_TOPIC_ARN"] == {"Ref": "InboundTextsTopic"}
    assert variables["DELIVERY_EVENTS_TOPIC_ARN"] == {"Ref": "DeliveryEventsTopic"}
