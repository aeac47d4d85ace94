"""Bounded counters on DynamoDB: the conditional ``ADD`` every exact limit is built on.

One item per counter in the ``counters`` table (``key``, ``value``, ``expires_at``).
:meth:`DynamoCounters.reserve` adds ``n`` only if ``value <= limit - n`` (or the item
does not exist), so no interleaving of workers takes the counter past its limit;
when the whole ask does not fit it asks again for what is left, read consistently.
Used by the campaign's daily cap (:mod:`outreach.sending.daily_cap`) and the spend
limits (:mod:`outreach.spend`).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from outreach.data.models import CounterModel
from outreach.data.pynamo import condition_failed, update_quietly


class DynamoCounters:
    """:class:`outreach.spend.BoundedCounters` on the ``counters`` table."""

    def reserve(self, key: str, *, limit: int, wanted: int, expires_at: datetime) -> int:
        """Add up to ``wanted`` without passing ``limit``; answer how many were added."""
        asked = min(wanted, limit)
        while asked > 0:
            try:
                update_quietly(
                    CounterModel(key),
                    actions=[
                        CounterModel.value.add(asked),
                        CounterModel.expires_at.set(expires_at),
                    ],
                    condition=CounterModel.value.does_not_exist()
                    | (CounterModel.value <= limit - asked),
                )
            except UpdateError as error:
                if not condition_failed(error):
                    raise
                asked = min(asked - 1, limit - self.value(key))
                continue
            return asked
        return 0

    def release(self, key: str, count: int) -> None:
        """Give back ``count`` reserved units (never below zero)."""
        if count <= 0:
            return
        try:
            update_quietly(
                CounterModel(key),
                actions=[CounterModel.value.add(-count)],
                condition=CounterModel.value >= count,
            )
        except UpdateError as error:
            if not condition_failed(error):
                raise

    def value(self, key: str) -> int:
        """The counter's value, read consistently (one read unit); ``0`` if none."""
        try:
            return int(CounterModel.get(key, consistent_read=True).value)
        except DoesNotExist:
            return 0
