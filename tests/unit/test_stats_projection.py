"""The campaign counters as a projection of recipient changes (stream records)."""

from typing import Any

from outreach.stats.projection import deltas, merge, split_stats_key, stats_key

KEY = "org#campaign"


def image(status: str, variant: str = "A", **extra: str) -> dict[str, Any]:
    item = {
        "campaign_key": {"S": KEY},
        "contact_id": {"S": "c1"},
        "variant": {"S": variant},
        "status": {"S": status},
    }
    item.update({name: {"S": value} for name, value in extra.items()})
    return item


def record(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    images: dict[str, Any] = {"Keys": {"campaign_key": {"S": KEY}, "contact_id": {"S": "c1"}}}
    if old is not None:
        images["OldImage"] = old
    if new is not None:
        images["NewImage"] = new
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return {"eventName": name, "dynamodb": images}


def test_a_new_recipient_counts_as_a_pending_recipient() -> None:
    assert deltas([record(None, image("pending"))]) == {
        stats_key(KEY, "A"): {"recipients": 1, "pending": 1}
    }


def test_a_claim_changes_no_counter() -> None:
    assert deltas([record(image("pending"), image("sending", claim_token="t"))]) == {}


def test_a_send_moves_pending_to_sent_and_counts_it_accepted() -> None:
    sent = image("sent", provider_message_id="m1")
    assert deltas([record(image("sending"), sent)]) == {
        stats_key(KEY, "A"): {"pending": -1, "sent": 1, "accepted": 1}
    }


def test_a_receipt_moves_sent_to_delivered_and_accepted_stays() -> None:
    before = image("sent", provider_message_id="m1")
    after = image("delivered", provider_message_id="m1")
    assert deltas([record(before, after)]) == {stats_key(KEY, "A"): {"sent": -1, "delivered": 1}}


def test_a_deleted_recipient_leaves_the_counters() -> None:
    assert deltas([record(image("pending"), None)]) == {
        stats_key(KEY, "A"): {"recipients": -1, "pending": -1}
    }


def test_a_reply_marker_changes_no_status_counter() -> None:
    before = image("delivered", provider_message_id="m1")
    after = image("delivered", provider_message_id="m1", replied_at="2026-11-23T15:00:00Z")
    assert deltas([record(before, after)]) == {}


def test_a_whole_life_nets_to_its_final_state_per_variant() -> None:
    records = [
        record(None, image("pending", "B")),
        record(image("pending", "B"), image("sending", "B")),
        record(image("sending", "B"), image("pending", "B", retry_at="x")),
        record(image("pending", "B"), image("sending", "B")),
        record(image("sending", "B"), image("sent", "B", provider_message_id="m")),
        record(
            image("sent", "B", provider_message_id="m"),
            image("failed", "B", provider_message_id="m"),
        ),
        record(None, image("pending", "A")),
        record(image("pending", "A"), image("skipped", "A")),
    ]
    assert deltas(records) == {
        stats_key(KEY, "B"): {"recipients": 1, "failed": 1, "accepted": 1},
        stats_key(KEY, "A"): {"recipients": 1, "skipped": 1},
    }


def test_records_without_images_or_with_an_unknown_status_are_ignored() -> None:
    keys_only = {"eventName": "MODIFY", "dynamodb": {"Keys": {"campaign_key": {"S": KEY}}}}
    odd = record(None, image("archived"))
    assert deltas([keys_only, odd]) == {}


def test_merge_sums_and_drops_what_cancels_out() -> None:
    state = {"k|A": {"sent": 2, "pending": -2}, "k|B": {"sent": 1}}
    more = {"k|A": {"sent": 1, "pending": -1}, "k|B": {"sent": -1}, "k|C": {"skipped": 1}}
    assert merge(state, more) == {"k|A": {"sent": 3, "pending": -3}, "k|C": {"skipped": 1}}


def test_a_variant_name_may_hold_the_separator() -> None:
    assert split_stats_key(stats_key("org#campaign", "x|y")) == ("org#campaign", "x|y")
