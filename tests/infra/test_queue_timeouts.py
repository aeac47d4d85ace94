"""Queues outlast the functions that read them, and the sender ends before its timeout.

Lambda asks that an SQS event source's visibility timeout be at least six times
the function's timeout; below it a message still being worked on becomes
visible again and is delivered twice (or, on a FIFO queue, holds its group).
"""

from __future__ import annotations

from typing import Any

from outreach.sending.sender import TIME_MARGIN_SECONDS
from outreach_local.template import load_template

SENDING_MINUTE_SECONDS = 60  # one tick's budget at the number's rate


def _function_timeout(template: dict[str, Any], function: dict[str, Any]) -> int:
    timeout = function["Properties"].get("Timeout")
    if timeout is None:
        timeout = template["Globals"]["Function"]["Timeout"]
    return int(timeout)


def _sqs_sources(template: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(function, its timeout, the queue's logical id) of every SQS event source."""
    sources = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue = event["Properties"]["Queue"]
            assert "Fn::GetAtt" in queue, (logical_id, queue)
            sources.append(
                (logical_id, _function_timeout(template, resource), queue["Fn::GetAtt"][0])
            )
    return sources


def test_every_queue_a_function_reads_hides_a_message_six_times_its_timeout() -> None:
    template = load_template()
    sources = _sqs_sources(template)
    assert any(function == "SenderFunction" for function, _t, _q in sources)
    for function, timeout, queue in sources:
        visibility = int(template["Resources"][queue]["Properties"]["VisibilityTimeout"])
        assert visibility >= 6 * timeout, (function, timeout, queue, visibility)


def test_the_sender_has_room_for_a_minute_of_sends_and_its_margin() -> None:
    template = load_template()
    timeout = _function_timeout(template, template["Resources"]["SenderFunction"])
    assert timeout >= SENDING_MINUTE_SECONDS + TIME_MARGIN_SECONDS
