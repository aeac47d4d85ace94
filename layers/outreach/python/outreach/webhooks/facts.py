"""The events, read from where the facts are written: the tables' streams (issue 20,
point 3). Lambda reads each stream and retries a failed batch, so an event is seen at
least once, never from an API request's thread:

* ``messages``: an inbound text is ``message.received``; an outbound one (campaign,
  manual, auto-reply) ``message.sent`` (``message.failed`` when the provider refused
  it); a receipt moving it to ``delivered`` or ``failed`` is ``message.delivered`` or
  ``message.failed``.
* ``opt_outs``: a number added is ``contact.opted_out``, removed ``contact.opted_in``.
* ``campaigns``: ``draft -> active`` is ``campaign.started``; ``-> paused``
  ``campaign.paused``; ``-> completed`` ``campaign.completed``.
* ``imports``: a job ending (``done`` or ``failed``) is ``import.completed``.

An event's id is stable for its stream record (:func:`outreach.ids.stable_id` of the
change's time and the record's ``eventID``), so a record read twice fans out once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from outreach.clock import to_iso
from outreach.ids import stable_id
from outreach.webhooks.domain import Event

_STORED_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000")
MESSAGE_FIELDS = (
    "message_id",
    "phone",
    "direction",
    "kind",
    "body",
    "status",
    "campaign_id",
    "variant",
    "contact_id",
    "user_id",
    "keyword",
    "error",
    "created_at",
)


def _table(event_source_arn: str) -> str:
    """The table a stream belongs to, without the stack's prefix: ``.../table/<stack>-messages
    /stream/...`` -> ``messages``."""
    name = event_source_arn.split(":table/", 1)[-1].split("/", 1)[0]
    return name.rsplit("-", 1)[-1]


def _plain(image: Mapping[str, Any]) -> dict[str, Any]:
    """A stream image's values as JSON takes them (numbers as int or float)."""
    return {name: _number(value) for name, value in image.items()}


def _number(value: Any) -> Any:
    """A Decimal (DynamoDB's numbers) as an int or a float; an instant as stored
    (PynamoDB's ``...000000+0000``) in the API's form (``...000Z``); anything else as it
    is."""
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, str) and _STORED_INSTANT.fullmatch(value):
        return to_iso(datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z"))
    return value


def events_of(record: Mapping[str, Any]) -> list[Event]:
    """The events one stream record (Lambda's form, images deserialized: ``event_name``,
    ``table``, ``event_id``, ``at``, ``old``, ``new``) tells; none for a change no event
    covers."""
    table, name = record["table"], record["event_name"]
    old, new = record.get("old") or {}, record.get("new") or {}
    at: datetime = record["at"]

    def event(kind: str, org_id: str, data: dict[str, Any]) -> Event:
        return Event(stable_id(at, f"{record['event_id']}:{kind}"), kind, org_id, at, data)

    if table == "messages":
        return _message_events(name, old, new, event)
    if table == "opt_outs":
        if name == "INSERT":
            data = {"phone": new["phone"], "source": new.get("source")}
            return [event("contact.opted_out", new["org_id"], data)]
        if name == "REMOVE":
            return [event("contact.opted_in", old["org_id"], {"phone": old["phone"]})]
        return []
    if table in ("campaigns", "imports") and name == "MODIFY":
        return _status_events(table, old, new, event)
    return []


def _message_events(name: str, old: dict[str, Any], new: dict[str, Any], event: Any) -> list[Event]:
    if not new:
        return []
    data = {field: new.get(field) for field in MESSAGE_FIELDS if new.get(field) is not None}
    org_id = new["org_id"]
    if name == "INSERT":
        if new.get("direction") == "inbound":
            return [event("message.received", org_id, data)]
        failed = new.get("status") == "failed"
        return [event("message.failed" if failed else "message.sent", org_id, data)]
    if name == "MODIFY" and old.get("status") != new.get("status"):
        if new.get("status") == "delivered":
            return [event("message.delivered", org_id, data)]
        if new.get("status") == "failed":
            return [event("message.failed", org_id, data)]
    return []


def _status_events(table: str, old: dict[str, Any], new: dict[str, Any], event: Any) -> list[Event]:
    before, after = str(old.get("status")), str(new.get("status"))
    if before == after:
        return []
    org_id = new["org_id"]
    if table == "imports":
        if after not in ("done", "failed"):
            return []
        fields = ("import_id", "status", "rows", "created", "updated", "skipped", "error_count")
        return [event("import.completed", org_id, _pick(new, fields))]
    kind = {
        ("draft", "active"): "campaign.started",
        ("active", "paused"): "campaign.paused",
        ("active", "completed"): "campaign.completed",
    }.get((before, after))
    if kind is None:
        return []
    data = _pick(new, ("campaign_id", "name", "status", "paused_reason"))
    return [event(kind, org_id, data)]


def _pick(image: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: image[field] for field in fields if image.get(field) is not None}


def stream_record(record: DynamoDBRecord) -> dict[str, Any]:
    """Lambda's DynamoDB stream record (Powertools' data class, images deserialized) as
    :func:`events_of` reads it."""
    change = record.dynamodb
    seconds = (change.approximate_creation_date_time if change else None) or 0
    return {
        "table": _table(record.event_source_arn or ""),
        "event_name": record.event_name.name if record.event_name else "",
        "event_id": record.event_id or "",
        "at": datetime.fromtimestamp(seconds, tz=UTC),
        "old": _plain(change.old_image) if change else {},
        "new": _plain(change.new_image) if change else {},
    }
