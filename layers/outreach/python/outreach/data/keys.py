"""Every composite DynamoDB key Outreach writes, built in one place.

Keys that hold tenant data start with the organization id, so a query on them can
never reach another organization's items (`docs/data-model.md` lists each access
pattern). Packages import their keys from here, never from another package's
repository.
"""

from __future__ import annotations

# The sparse `by_status` index holds a recipient only while it is open (pending or
# claimed); the key names the pending status because a claim keeps the same key.
_OPEN_SUFFIX = "pending"


def campaign_key(org_id: str, campaign_id: str) -> str:
    """The partition key of a campaign's recipients: ``<org>#<campaign>``."""
    return f"{org_id}#{campaign_id}"


def open_key(org_id: str, campaign_id: str) -> str:
    """The sparse ``by_status`` index key of a campaign's open (pending or claimed) recipients."""
    return f"{org_id}#{campaign_id}#{_OPEN_SUFFIX}"


def daily_counter_key(org_id: str, campaign_id: str, day: str) -> str:
    """The counter of a campaign's sends on ``day`` (YYYY-MM-DD in its timezone)."""
    return f"cap#{org_id}#{campaign_id}#{day}"


def org_daily_counter_key(org_id: str, day: str) -> str:
    """The counter of every text an organization sends on ``day`` (YYYY-MM-DD in its zone)."""
    return f"orgday#{org_id}#{day}"


def auto_reply_counter_key(org_id: str, hour: str) -> str:
    """The counter of an organization's auto-replies in one clock hour (UTC ``YYYY-MM-DDTHH``)."""
    return f"autoreply#{org_id}#{hour}"


def help_answer_key(org_id: str, phone: str) -> str:
    """The item that marks when an organization last answered a HELP from ``phone`` (E.164)."""
    return f"help#{org_id}#{phone}"


def sending_turn_key(org_id: str) -> str:
    """The item of an organization's sending turn (one sender run at a time)."""
    return f"turn#{org_id}"


def email_key(email: str) -> str:
    """The unique-key item that reserves a (lowercased) email for one user."""
    return f"email#{email}"


def sender_key(number: str) -> str:
    """The unique-key item that ties an E.164 sender number to one organization."""
    return f"sender#{number}"


def tag_key(org_id: str, tag: str) -> str:
    """The ``by_tag`` index key of an organization's contacts with ``tag``."""
    return f"{org_id}#{tag}"


def conversation_key(org_id: str, phone: str) -> str:
    """The messages table's partition of one conversation: ``<org_id>#<E.164 number>``."""
    return f"{org_id}#{phone}"


def inbox_key(org_id: str, *, unread: bool) -> str:
    """The ``inbox`` index partition of an organization's unread or read conversations."""
    return f"{org_id}#{'unread' if unread else 'read'}"


def manual_send_key(org_id: str, idempotency_key: str) -> str:
    """The item that records which message a manual send's ``Idempotency-Key`` made."""
    return f"idem#{org_id}#{idempotency_key}"


def webhook_endpoint_key(org_id: str, webhook_id: str) -> str:
    """The ``webhook_deliveries`` partition of one endpoint's deliveries."""
    return f"{org_id}#{webhook_id}"
