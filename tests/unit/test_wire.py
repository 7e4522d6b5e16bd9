"""Pure pieces of the wire format, without a database: page tokens, StringIDs, times, custom-field values."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evacase.domain.custom_fields import STRING, FieldDef, stored_value
from evacase.domain.custom_fields import CustomFieldValue as Value
from evacase.errors import ValidationFailed
from evacase.messages import merged, parse_timestamp, sent, string_ids
from evacase.paging import PageTokens
from evacase.patterns import MatchBudget

TOKENS = PageTokens(b"k" * 32)


@given(limit=st.integers(min_value=1, max_value=100), key=st.tuples(st.integers(0, 2**62), st.integers(1, 2**62)))
def test_a_page_token_round_trips_for_its_own_list_only(limit: int, key: tuple[int, int]) -> None:
    first = TOKENS.request("CustomerListCases", None, limit, {"Title": "x"}, scope=7)
    token = TOKENS.encode(first, True, key)
    again = TOKENS.decode(token, "CustomerListCases", 7)
    assert (again.key, again.limit, again.filter, again.forward, again.first) == (
        key,
        limit,
        {"Title": "x"},
        True,
        False,
    )
    for op, scope in (("ListCases", 7), ("CustomerListCases", 8)):
        with pytest.raises(ValidationFailed):
            TOKENS.decode(token, op, scope)
    with pytest.raises(ValidationFailed):
        PageTokens(b"x" * 32).decode(token, "CustomerListCases", 7)  # another key: forged


def test_a_page_token_signed_before_an_upgrade_still_reads() -> None:
    # Tokens outlive a deploy: the signature is HMAC-SHA256 of the payload, cut to 16 bytes, base64url unpadded
    # (a token handed out before the signing code changed, pinned here).
    token = "WyJMaXN0Q2FzZXMiLG51bGwsdHJ1ZSxbNDJdLDI1LHsiU3RhdHVzSUQiOjN9XQ.3915CnIw4duP26kal79cyQ"
    again = TOKENS.decode(token, "ListCases", None)
    assert (again.key, again.limit, again.filter, again.forward) == ((42,), 25, {"StatusID": 3}, True)
    first = TOKENS.request("ListCases", None, 25, {"StatusID": 3})
    assert TOKENS.encode(first, True, (42,)) == token


def reference_string_ids(value: Any) -> Any:
    """The StringIDs rule on decoded JSON, stated plainly: an integer under a key ending in `ID`, and each item
    of a list of integers under a key ending in `IDs`, become strings; everything else stays."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(item) is int and key.endswith("ID"):
                out[key] = str(item)
            elif key.endswith("IDs") and isinstance(item, list) and item and all(type(i) is int for i in item):
                out[key] = [str(i) for i in item]
            else:
                out[key] = reference_string_ids(item)
        return out
    if isinstance(value, list):
        return [reference_string_ids(item) for item in value]
    return value


def test_string_ids_turn_every_id_into_a_string_and_nothing_else() -> None:
    body = {"ID": 5, "Count": 3, "BlobIDs": [1, 2], "Customer": {"ID": 9, "Name": "x"}, "Results": [{"CaseID": 1}]}
    assert msgspec.json.decode(string_ids(msgspec.json.encode(body))) == {
        "ID": "5",
        "Count": 3,
        "BlobIDs": ["1", "2"],
        "Customer": {"ID": "9", "Name": "x"},
        "Results": [{"CaseID": "1"}],
    }
    tricky = {"Text": '{"ID":1,"CaseIDs":[2,3]}', "Note": 'a,"ID":4}', "ID": -7, "UserID": 2.5, "IsID": True}
    assert msgspec.json.decode(string_ids(msgspec.json.encode(tricky))) == tricky | {"ID": "-7"}


KEYS = st.sampled_from(["ID", "CaseID", "BlobIDs", "IDs", "Name", "Text", 'x","ID', "ÜID", "Grid", "ids", ',"ID'])
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(['{"ID":1}', ',"CaseID":2,', '"BlobIDs":[1,2]', "\\", '\\"ID":3']),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(st.integers(min_value=-5, max_value=10**12), max_size=4)
        | st.dictionaries(KEYS | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(value=JSON_VALUES)
def test_string_ids_on_the_encoded_answer_follow_the_rule_whatever_the_text_inside_it(value: Any) -> None:
    assert string_ids(msgspec.json.encode(value)) == msgspec.json.encode(reference_string_ids(value))


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2025-01-31", "2025-01-31T00:00:00+00:00"),
        ("2025-01-31T12:00:00+02:00", "2025-01-31T10:00:00+00:00"),
        ("2025-01-31 12:00:00.5Z", "2025-01-31T12:00:00.500000+00:00"),
    ],
)
def test_times_are_read_as_iso_8601_into_utc(text: str, utc: str) -> None:
    assert parse_timestamp(text, "When").isoformat() == utc


@pytest.mark.parametrize("text", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "31-01-2025", ""])
def test_times_outside_the_calendar_or_malformed_are_400s(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_timestamp(text, "When")
    assert caught.value.data == {"Field": "When"}


def field(**options: object) -> FieldDef:
    values: dict[str, object] = {
        "id": 1,
        "name": "Serial",
        "backend_id": None,
        "data_type": STRING,
        "is_array": False,
        "enum_values": None,
        "is_required": False,
        "minimum_length": None,
        "maximum_length": None,
        "minimum_value": None,
        "maximum_value": None,
        "minimum_date": None,
        "maximum_date": None,
        "regex": None,
        "default_value": None,
        "visible_mask": 3,
        "editable_mask": 3,
    }
    values.update(options)
    return FieldDef(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "value", "code"),
    [
        ({"minimum_length": 3}, "ab", "CustomFields:TooShort"),
        ({"maximum_length": 3}, "abcd", "CustomFields:TooLong"),
        ({"regex": "^[0-9]+$"}, "12a", "CustomFields:RegexNotMatched"),
        ({}, None, None),
    ],
)
def test_string_values_are_checked_against_their_options(
    options: dict[str, object], value: str | None, code: str | None
) -> None:
    given_value = Value(StringValue=value) if value is not None else Value(BoolValue=True)
    if code is None:
        with pytest.raises(ValidationFailed) as caught:
            stored_value(field(**options), given_value, MatchBudget())
        assert caught.value.code == "CustomFields:InvalidType"
        return
    with pytest.raises(ValidationFailed) as caught:
        stored_value(field(**options), given_value, MatchBudget())
    assert (caught.value.code, caught.value.data) == (code, {"CustomFieldID": 1})
    assert stored_value(field(**options), Value(StringValue="123"), MatchBudget()) == "123"


def test_a_partial_update_keeps_absent_fields_and_clears_nulls() -> None:
    class Update(msgspec.Struct):
        Title: str | msgspec.UnsetType = msgspec.UNSET
        Description: str | msgspec.UnsetType | None = msgspec.UNSET
        TopicID: int | msgspec.UnsetType = msgspec.UNSET

    current = {"title": "Old", "description": "Kept?", "topic_id": 3}
    fields = {"Title": "title", "Description": "description", "TopicID": "topic_id"}
    assert merged(Update(Description=None), current, fields) == {"title": "Old", "description": None, "topic_id": 3}
    assert merged(Update(Title="New", TopicID=4), current, fields) == {
        "title": "New",
        "description": "Kept?",
        "topic_id": 4,
    }


def test_sent_keeps_only_the_fields_the_request_sent_nulls_included() -> None:
    class Update(msgspec.Struct):
        Title: str | msgspec.UnsetType = msgspec.UNSET
        Description: str | msgspec.UnsetType | None = msgspec.UNSET

    fields = {"Title": "title", "Description": "description"}
    assert sent(Update(Description=None), fields) == {"description": None}
    assert sent(Update(), fields) == {}
