"""What the sender's tests inject through :class:`FaultHooks`: a worker killed mid-send,
or another request acting while a tick is under way."""

from __future__ import annotations

from collections.abc import Callable

from outreach.sending.sender import FaultHooks


class Killed(BaseException):
    """The worker process died (BaseException: nothing in the sender catches it)."""


def die(_: object) -> None:
    """A fault hook: the worker dies at this point."""
    raise Killed


# The worker dies once it has claimed a recipient, before the provider is called.
KILLED_AFTER_CLAIM = FaultHooks(after_claim=die)
# The worker dies once the provider took the message, before the send is recorded.
KILLED_AFTER_PROVIDER = FaultHooks(after_provider=die)


def on_claim(number: int, action: Callable[[], object]) -> FaultHooks:
    """Hooks that run ``action`` once the ``number``-th recipient of a run is claimed (as
    a pause or a cancel arriving mid-batch)."""
    claims: list[object] = []

    def count(candidate: object) -> None:
        claims.append(candidate)
        if len(claims) == number:
            action()

    return FaultHooks(after_claim=count)
