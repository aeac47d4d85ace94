"""The campaign status counters as a projection of the recipients table's stream.

Every change to a recipient (the start's snapshot, a claim, an outcome, a
receipt, a skip, a deleted leftover) is a stream record with the item before
and after. :func:`deltas` turns records into counter changes per campaign
variant: the old state's counter goes down, the new one's up. No writer of a
recipient moves a counter itself, so no write path can forget one, and a
message costs one plain write instead of a two-item transaction.

The stream function sums deltas over a tumbling window of one shard (Lambda
carries the running sums between invocations as the window's ``state``) and
writes them once, at the window's end; see :mod:`outreach.stats.repository`
for why that write counts exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

# The recipient status counters; a claim (``sending``) still counts as pending.
STATUS_COUNTERS = ("pending", "sent", "delivered", "failed", "skipped", "unknown")
PROJECTED_COUNTERS = ("recipients", "accepted", *STATUS_COUNTERS)
_BUCKETS = {"pending": "pending", "sending": "pending"} | {
    name: name for name in STATUS_COUNTERS if name != "pending"
}

Deltas = dict[str, dict[str, int]]  # "<campaign_key>|<variant>" -> counter -> change


def stats_key(campaign_key: str, variant: str) -> str:
    return f"{campaign_key}|{variant}"


def split_stats_key(key: str) -> tuple[str, str]:
    campaign_key, _, variant = key.partition("|")  # a campaign key never holds "|"
    return campaign_key, variant


def _string(image: Mapping[str, Any] | None, name: str) -> str | None:
    if not image or name not in image:
        return None
    value = image[name]
    return value.get("S") if isinstance(value, Mapping) else None


def _contribution(image: Mapping[str, Any] | None) -> tuple[str, dict[str, int]] | None:
    """What one recipient image adds to its variant's counters (``None``: nothing)."""
    campaign_key = _string(image, "campaign_key")
    variant = _string(image, "variant")
    status = _string(image, "status")
    if campaign_key is None or variant is None or status not in _BUCKETS:
        return None
    counts = {"recipients": 1, _BUCKETS[status]: 1}
    if _string(image, "provider_message_id"):
        counts["accepted"] = 1
    return stats_key(campaign_key, variant), counts


def deltas(records: Iterable[Mapping[str, Any]]) -> Deltas:
    """Counter changes for stream records (``NEW_AND_OLD_IMAGES``), zeros left out."""
    changes: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for record in records:
        images = record.get("dynamodb", {})
        for image, sign in ((images.get("OldImage"), -1), (images.get("NewImage"), 1)):
            contribution = _contribution(image)
            if contribution is None:
                continue
            key, counts = contribution
            for name, value in counts.items():
                changes[key][name] += sign * value
    return {
        key: {name: value for name, value in counts.items() if value}
        for key, counts in changes.items()
        if any(counts.values())
    }


def merge(state: Mapping[str, Mapping[str, int]], more: Mapping[str, Mapping[str, int]]) -> Deltas:
    """The sum of two sets of deltas (a window's running state and a new batch's)."""
    merged: dict[str, dict[str, int]] = {key: dict(counts) for key, counts in state.items()}
    for key, counts in more.items():
        target = merged.setdefault(key, {})
        for name, value in counts.items():
            target[name] = int(target.get(name, 0)) + int(value)
    return {
        key: {name: value for name, value in counts.items() if value}
        for key, counts in merged.items()
        if any(counts.values())
    }
