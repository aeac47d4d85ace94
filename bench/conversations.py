"""Conversations (issue 19): the inbox's first page at 10,000 conversations beside 100, and
the DynamoDB writes a text costs in its conversation.

Both parts run on moto in-process, the tables made from template.yaml, every AWS call
recorded and priced by :class:`bench._units.Recorder` (DynamoDB's on-demand billing,
index writes included: a conversation's ``inbox`` entry moves with each message, a key
change, 2 writes).

1. **The inbox.** Two organizations, one with ``--small`` conversations (default 100),
   one with ``--large`` (default 10,000); a tenth of each unread. Their items are written
   in batches with the writers' own shapes (``last_message_map``, ``message_item``): the
   setup, not measured. Then ``ConversationService.inbox`` (the route's call: the inbox
   index's two partitions Queried and merged, the page's numbers' last campaigns in one
   batch read of their histories, then the page's contacts and opt-outs in three batch
   reads), first page of 50, ``--runs`` times each, interleaved. Printed per
   organization: the calls and the read units of a page (what DynamoDB does and bills:
   a Query reads the page's entries from the key on, whatever the partition holds),
   and the median time spent outside the AWS calls (Outreach's own work on the page).
   Goal: the same calls, and both ratios large / small <= 1.3. The time inside the calls
   is printed too, but it is moto's, not DynamoDB's: moto answers a Query on an index by
   reading every item of the table (both organizations'), so it grows with the table.
2. **Writes per text.** Priced on fresh numbers and on numbers with a conversation:
   an inbound text (``InboundRepository.record_inbound``: the conversation's update, the
   message), a page of campaign texts (each number's claim, ``SendingRepository.claim``:
   its history's update, which the sender made before conversations too, then
   ``note_texts``: the messages in batches), an auto-reply or manual text
   (``record_outbound``). Beside each, what the same text cost before conversations: an
   inbound text one ``inbound_messages`` item (1 write), a campaign text its number's
   history write (1 write; it still is). A campaign text is a message and nothing more,
   with or without a conversation: the inbox reads the campaign that last texted a
   number from its history. Goal: at most 3 writes added per text. ``bench/sending.py``
   prints the sending path's total.

    PYTHONPATH=layers/outreach/python:infra/local .venv/bin/python bench/conversations.py
    ... bench/conversations.py --runs 5 --large 2000     # a quick run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[1])]  # the project root: bench._setup

PREFIX = "bench-"
GOAL_RATIO = 1.3
GOAL_ADDED_WRITES = 3
PAGE = 50
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def phone_of(org_index: int, index: int) -> str:
    return f"+1{617 + org_index:03d}{2000000 + index:07d}"


def main() -> None:  # noqa: PLR0915 - one linear measurement script
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30, help="inbox pages per organization")
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=50, help="texts priced per kind")
    args = parser.parse_args()

    from bench._setup import use_bench_environment

    use_bench_environment(PREFIX)  # before any project module is imported
    import warnings

    import boto3
    from bench._units import Recorder, describe
    from botocore.client import BaseClient
    from moto import mock_aws

    from outreach.campaigns.statuses import RecipientStatus
    from outreach.clock import SimulatedClock
    from outreach.config import get_settings
    from outreach.conversations.messages import Direction, Message, MessageKind, MessageStatus
    from outreach.conversations.recording import (
        ConversationWriter,
        last_message_map,
        message_item,
    )
    from outreach.conversations.service import build_conversation_service
    from outreach.data.binding import bind_models
    from outreach.data.keys import inbox_key
    from outreach.data.models import ConversationModel, MessageModel
    from outreach.ids import new_id
    from outreach.inbound.domain import RecordedText
    from outreach.inbound.repository import InboundRepository
    from outreach.observability import logger
    from outreach.sending.domain import Candidate, Claim, Outcome
    from outreach.sending.repository import SendingRepository
    from outreach.sending.sender import campaign_message
    from outreach_local.template import create_tables

    get_settings.cache_clear()
    logger.setLevel("ERROR")
    warnings.simplefilter("ignore")
    original = BaseClient._make_api_call  # type: ignore[attr-defined]

    def recording(recorder: Recorder) -> Any:
        def call(self: Any, operation: str, params: Any) -> Any:
            return recorder(self, operation, params)

        return call

    def measured(recorder: Recorder, action: Any) -> float:
        BaseClient._make_api_call = recording(recorder)  # type: ignore[attr-defined]
        try:
            begin = time.perf_counter()
            action()
            return time.perf_counter() - begin - recorder.overhead_s
        finally:
            BaseClient._make_api_call = original  # type: ignore[attr-defined]

    def text(org_id: str, phone: str, at: datetime, kind: MessageKind) -> Message:
        inbound = kind is MessageKind.INBOUND
        return Message(
            org_id=org_id,
            phone=phone,
            id=new_id(at),
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            kind=kind,
            body="Yes, can you come Tuesday? We are home after 3." if inbound else "x" * 150,
            status=MessageStatus.RECEIVED if inbound else MessageStatus.SENT,
            created_at=at,
            updated_at=at,
            campaign_id=None if inbound else "CAMPAIGN1",
            provider_message_id=f"carrier-{phone}-{at.timestamp()}",
        )

    def build_inbox(org_id: str, org_index: int, count: int) -> None:
        """``count`` conversations, each an answered campaign text (a tenth unread)."""
        with ConversationModel.batch_write() as conversations, MessageModel.batch_write() as texts:
            for index in range(count):
                at = NOW - timedelta(seconds=count - index)
                phone = phone_of(org_index, index)
                unread = index % 10 == 0
                message = text(
                    org_id, phone, at, MessageKind.INBOUND if unread else MessageKind.CAMPAIGN
                )
                texts.save(message_item(message))
                conversations.save(
                    ConversationModel(
                        org_id,
                        phone,
                        inbox=inbox_key(org_id, unread=unread),
                        last_at=at,
                        last_message=last_message_map(message),
                        unread_count=1 if unread else 0,
                        last_campaign_id="CAMPAIGN1",
                        last_inbound_at=at,
                    )
                )

    total_begin = time.perf_counter()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(dynamodb, PREFIX)
        bind_models(get_settings())
        shapes = {name: describe(dynamodb, name) for name in dynamodb.list_tables()["TableNames"]}
        service = build_conversation_service(SimulatedClock(NOW))

        # --- 1. The inbox's first page ---------------------------------------------------
        orgs = {"small": (new_id(NOW), args.small), "large": (new_id(NOW), args.large)}
        setup_begin = time.perf_counter()
        for org_index, (org_id, count) in enumerate(orgs.values()):
            build_inbox(org_id, org_index, count)
        setup_s = time.perf_counter() - setup_begin
        outside: dict[str, list[float]] = {name: [] for name in orgs}
        inside: dict[str, list[float]] = {name: [] for name in orgs}
        pages: dict[str, Recorder] = {}
        for run in range(args.runs + 1):
            for name, (org_id, _) in orgs.items():
                recorder = Recorder(original, shapes, (PREFIX,))
                result: list[Any] = []
                elapsed = measured(
                    recorder,
                    lambda org_id=org_id, result=result: result.append(
                        service.inbox(
                            org_id, unread_only=False, campaign_id=None, limit=PAGE, cursor=None
                        )
                    ),
                )
                assert len(result[0].items) == PAGE, len(result[0].items)
                if run == 0:
                    pages[name] = recorder  # the first run warms the caches: not timed
                else:
                    in_calls = recorder.in_calls_s
                    outside[name].append(elapsed - in_calls)
                    inside[name].append(in_calls)
        print(
            f"The inbox's first page ({PAGE} conversations), {args.runs} runs each, "
            f"interleaved (setup {setup_s:.1f} s):"
        )
        for name, (_, count) in orgs.items():
            recorder = pages[name]
            print(
                f"  {count:>7,} conversations  calls {recorder.total_calls}  "
                f"RCU {recorder.total_rcu:6.1f}  outside the calls "
                f"{statistics.median(outside[name]) * 1000:7.2f} ms  (in moto's calls "
                f"{statistics.median(inside[name]) * 1000:7.1f} ms)"
            )
            print(f"      {', '.join(f'{k} x{v}' for k, v in sorted(recorder.calls.items()))}")
        same_calls = pages["small"].calls == pages["large"].calls
        time_ratio = statistics.median(outside["large"]) / statistics.median(outside["small"])
        unit_ratio = pages["large"].total_rcu / pages["small"].total_rcu
        met = same_calls and max(time_ratio, unit_ratio) <= GOAL_RATIO
        print(
            f"  {args.large:,} / {args.small:,}: the same calls {same_calls}; read units "
            f"{unit_ratio:.2f}; time outside the calls {time_ratio:.2f}: "
            f"{'goal met' if met else 'GOAL MISSED'} (same calls, each <= {GOAL_RATIO})"
        )

        # --- 2. Writes per text ------------------------------------------------------------
        writer = ConversationWriter()
        inbound_repository = InboundRepository()
        sending = SendingRepository()
        org_id = new_id(NOW)
        n = args.texts
        print(f"\nDynamoDB writes per text recorded in its conversation ({n} texts each):")
        rows: list[tuple[str, float, int]] = []

        def price(label: str, before: int, action: Any) -> None:
            recorder = Recorder(original, shapes, (PREFIX,))
            measured(recorder, action)
            per_text = recorder.total_wcu / n
            rows.append((label, per_text, before))
            by_target = ", ".join(
                f"{target} {units / n:.2f}"
                for target, units in recorder.written.by_target.most_common()
            )
            print(
                f"  {label:<44} {per_text:5.2f} WCU (before: {before}; added "
                f"{per_text - before:+.2f})  [{by_target}]"
            )

        def inbound_texts(offset: int, minutes: int) -> None:
            for index in range(n):
                at = NOW + timedelta(minutes=minutes, milliseconds=index)
                message_id = new_id(at)
                assert inbound_repository.record_inbound(
                    RecordedText(
                        org_id=org_id,
                        message_id=message_id,
                        carrier_id=f"carrier-{offset}-{index}-{minutes}",
                        received_at=at,
                        from_number=phone_of(5, offset + index),
                        to_number="+16175550100",
                        body="Yes, can you come Tuesday? We are home after 3.",
                        kind="reply",
                        last=None,
                    )
                )

        def campaign_texts(offset: int, minutes: int) -> None:
            at = NOW + timedelta(minutes=minutes)
            messages = []
            phones = [phone_of(5, offset + index) for index in range(n)]
            earlier = sending.phone_histories(org_id, phones)
            campaign_id = f"CAMPAIGN{minutes}"
            for index, phone in enumerate(phones):
                candidate = Candidate(org_id, campaign_id, f"CONTACT{index}", phone, "A", None)
                claim = Claim.of("bench", at + timedelta(minutes=5))
                assert sending.claim(candidate, earlier.get(phone), claim, now=at) is not None
                sent = Outcome(RecipientStatus.SENT, message_id=f"provider-{index}-{minutes}")
                messages.append(campaign_message(candidate, new_id(at), "x" * 150, sent, at))
            sending.note_texts(messages)

        def outbound_texts(offset: int, minutes: int) -> None:
            for index in range(n):
                at = NOW + timedelta(minutes=minutes, milliseconds=index)
                message = text(org_id, phone_of(5, offset + index), at, MessageKind.MANUAL)
                writer.record_outbound(message, mark_read=True)

        price("inbound text, a new conversation", 1, lambda: inbound_texts(0, 1))
        price("inbound text, its conversation's next", 1, lambda: inbound_texts(0, 2))
        price("campaign text, a number with no conversation", 1, lambda: campaign_texts(n, 3))
        price("campaign text, a number with a conversation", 1, lambda: campaign_texts(0, 4))
        price("manual text or auto-reply, next", 0, lambda: outbound_texts(0, 5))
        worst = max(per_text - before for label, per_text, before in rows if before)
        verdict = "goal met" if worst <= GOAL_ADDED_WRITES else "GOAL MISSED"
        print(
            f"  most added to a text of today's paths: {worst:.2f} WCU: {verdict} "
            f"(<= {GOAL_ADDED_WRITES})"
        )
    print(f"total run {time.perf_counter() - total_begin:.0f} s")


if __name__ == "__main__":
    main()
