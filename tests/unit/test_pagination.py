import base64
import json

import pytest

from outreach.data.pages import decode_cursor, encode_cursor
from outreach.errors import BadRequest

KEY = {"org_id": "ORG1", "contact_id": "01JABCDEFGHJKMNPQRSTVWXYZ0"}


def test_round_trip() -> None:
    cursor = encode_cursor(KEY, org_id="ORG1", listing="contacts")
    assert cursor is not None
    assert decode_cursor(cursor, org_id="ORG1", listing="contacts") == KEY


def test_no_last_key_means_no_cursor() -> None:
    assert encode_cursor(None, org_id="ORG1", listing="contacts") is None
    assert decode_cursor(None, org_id="ORG1", listing="contacts") is None


def test_cursor_of_another_organization_is_rejected() -> None:
    cursor = encode_cursor(KEY, org_id="ORG1", listing="contacts")
    with pytest.raises(BadRequest, match="does not belong"):
        decode_cursor(cursor, org_id="ORG2", listing="contacts")


def test_cursor_of_another_listing_is_rejected() -> None:
    cursor = encode_cursor(KEY, org_id="ORG1", listing="contacts")
    with pytest.raises(BadRequest):
        decode_cursor(cursor, org_id="ORG1", listing="opt-outs")


def test_tampered_payload_is_rejected() -> None:
    cursor = encode_cursor(KEY, org_id="ORG1", listing="contacts")
    assert cursor is not None
    payload, tag = cursor.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["o"] = "ORG2"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    with pytest.raises(BadRequest, match="not valid"):
        decode_cursor(f"{forged}.{tag}", org_id="ORG2", listing="contacts")


@pytest.mark.parametrize(
    "garbage", ["", "abc", "a.b", "!!!.???", "e30.AAAA", "....", "\u00e9.\u00e9"]
)
def test_garbage_is_a_bad_request(garbage: str) -> None:
    with pytest.raises(BadRequest):
        decode_cursor(garbage, org_id="ORG1", listing="contacts")
