"""Custom fields of cases: definitions with their options, values checked against both, and who sees what.

A field is visible to a caller whose user type shares a bit with its visible mask and editable when it shares
one with its editable mask (schema.sql derives both from the options; editable implies visible). Customer
services judge as a Customer whatever the caller's type. A field the caller cannot see does not exist for them
(`CustomFields:UnknownFieldForType`); one they see but may not change is `CustomFields:NotAllowed`.

Values are stored as plain JSON (see case_custom_field_values) and travel as EVA's value objects
(`StringValue`, `NumberValue`, `BoolValue`, `DateTimeValue`, `BlobValue`, `ArrayValues`). Changes are recorded
as one private note per request, never in the customer-visible ledger."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.auth import UserType
from evacase.db import load_queries
from evacase.errors import ValidationFailed
from evacase.messages import Id, Message, iso_ms, parse_timestamp
from evacase.patterns import MatchBudget

SQL = load_queries("custom_fields")

CASE_TYPE_ID = 9
CUSTOMER = int(UserType.CUSTOMER)  # the user type Customer* services judge visibility and editability as
STRING, BOOL, INTEGER, DECIMAL, ENUM, TEXT, DATETIME, DATE, BLOB = range(9)
DATA_TYPE_NAMES = ("String", "Bool", "Integer", "Decimal", "Enum", "Text", "DateTime", "Date", "Blob")
# The value property each data type takes.
PROPERTY = {
    STRING: "StringValue",
    TEXT: "StringValue",
    ENUM: "StringValue",
    BOOL: "BoolValue",
    INTEGER: "NumberValue",
    DECIMAL: "NumberValue",
    DATETIME: "DateTimeValue",
    DATE: "DateTimeValue",
    BLOB: "BlobValue",
}
PLAIN_TYPES: dict[str, type | tuple[type, ...]] = {
    "StringValue": str,
    "BoolValue": bool,
    "NumberValue": (int, float),
    "DateTimeValue": str,
    "BlobValue": uuid.UUID,
}
MAX_LENGTH = {STRING: 1_000, ENUM: 1_000, TEXT: 10_000}  # characters, whatever the options say
MAX_ARRAY_ITEMS = 100
VALUE_PROPERTIES = ("ArrayValues", "BlobValue", "BoolValue", "DateTimeValue", "NumberValue", "StringValue")


class CustomFieldValue(Message, kw_only=True):
    """EVA's value object: the property of the field's data type, or ArrayValues for an array field."""

    ArrayValues: list[CustomFieldValue] | None = None
    BlobValue: uuid.UUID | None = None
    BoolValue: bool | None = None
    DateTimeValue: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    NumberValue: int | float | None = None
    StringValue: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None


class CustomFieldKeyValue(CustomFieldValue, kw_only=True):
    """A value for one field in a request; no value property at all clears the field."""

    CustomFieldID: Id


# The CustomFields list of a request.
CustomFieldValues = Annotated[list[CustomFieldKeyValue], msgspec.Meta(max_length=200)]


@dataclass(frozen=True, slots=True)
class FieldDef:
    """A custom field with its options, as a case's values are checked against it."""

    id: int
    name: str
    backend_id: str | None
    data_type: int
    is_array: bool
    enum_values: dict[str, str] | None
    is_required: bool
    minimum_length: int | None
    maximum_length: int | None
    minimum_value: Decimal | None
    maximum_value: Decimal | None
    minimum_date: dt.datetime | None
    maximum_date: dt.datetime | None
    regex: str | None
    default_value: Any
    visible_mask: int
    editable_mask: int
    display_name: str | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any] | asyncpg.Record) -> FieldDef:
        return cls(
            id=row["id"],
            name=row["name"],
            backend_id=row["backend_id"],
            data_type=row["data_type"],
            is_array=row["is_array"],
            enum_values=decode_json(row["enum_values"]),
            is_required=bool(row["is_required"]),
            minimum_length=row["minimum_length"],
            maximum_length=row["maximum_length"],
            minimum_value=row["minimum_value"],
            maximum_value=row["maximum_value"],
            minimum_date=row["minimum_date"],
            maximum_date=row["maximum_date"],
            regex=row["regex"],
            default_value=decode_json(row["default_value"]),
            visible_mask=row["visible_mask"],
            editable_mask=row["editable_mask"],
            display_name=row["display_name"],
        )

    def visible_to(self, user_type: int) -> bool:
        return bool(self.visible_mask & user_type)

    def editable_by(self, user_type: int) -> bool:
        return bool(self.editable_mask & user_type)


def decode_json(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


def encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def case_fields(conn: asyncpg.Connection) -> dict[int, FieldDef]:
    """Every custom field of cases, by ID, in display order."""
    return {r["id"]: FieldDef.of(r) for r in await conn.fetch(SQL["case_fields"])}


def field_error(code: str, message: str, field_id: int) -> ValidationFailed:
    return ValidationFailed(message, f"CustomFields:{code}", data={"CustomFieldID": field_id})


def unknown_field(field_id: int) -> ValidationFailed:
    return field_error("UnknownFieldForType", f"Custom field {field_id} does not exist for cases.", field_id)


# --- values ---------------------------------------------------------------------------------------------


def _given(value: CustomFieldValue) -> list[str]:
    return [p for p in VALUE_PROPERTIES if getattr(value, p) is not None]


def _scalar(f: FieldDef, value: CustomFieldValue, budget: MatchBudget) -> Any:
    """One value of the field's data type, as stored; checked against the data type and the options."""
    given = _given(value)
    want = PROPERTY[f.data_type]
    if given != [want]:
        if "ArrayValues" in given:
            raise field_error(
                "ArrayNotAllowedForDataType", f"Custom field `{f.name}` holds a single value, not ArrayValues.", f.id
            )
        raise field_error(
            "InvalidType", f"Custom field `{f.name}` ({DATA_TYPE_NAMES[f.data_type]}) takes its value as {want}.", f.id
        )
    raw = getattr(value, want)
    if f.data_type in (STRING, TEXT, ENUM):
        return _string(f, raw, budget)
    if f.data_type == BOOL:
        return bool(raw)
    if f.data_type in (INTEGER, DECIMAL):
        return _number(f, raw)
    if f.data_type in (DATETIME, DATE):
        return _date(f, raw)
    return str(raw)  # Blob: its GUID


def _string(f: FieldDef, text: str, budget: MatchBudget) -> str:
    if f.data_type == ENUM:
        if text not in (f.enum_values or {}):
            raise field_error("WrongEnumValue", f"`{text}` is not one of the values of custom field `{f.name}`.", f.id)
        return text
    limit = MAX_LENGTH[f.data_type]
    if len(text) > limit:
        raise field_error("TooLong", f"Custom field `{f.name}` takes at most {limit} characters.", f.id)
    if f.minimum_length is not None and len(text) < f.minimum_length:
        raise field_error("TooShort", f"Custom field `{f.name}` needs at least {f.minimum_length} characters.", f.id)
    if f.maximum_length is not None and len(text) > f.maximum_length:
        raise field_error("TooLong", f"Custom field `{f.name}` takes at most {f.maximum_length} characters.", f.id)
    if f.regex is not None and not budget.search(f.regex, text, f.id):
        raise field_error("RegexNotMatched", f"The value of custom field `{f.name}` does not match its pattern.", f.id)
    return text


def _number(f: FieldDef, number: float) -> int | float:
    if f.data_type == INTEGER:
        if isinstance(number, float):
            if not number.is_integer():
                raise field_error("IntegerCantHaveFraction", f"Custom field `{f.name}` takes whole numbers.", f.id)
            number = int(number)
    elif isinstance(number, float) and (number != number or number in (float("inf"), float("-inf"))):
        raise field_error("InvalidType", f"Custom field `{f.name}` takes a finite number.", f.id)
    if f.minimum_value is not None and Decimal(str(number)) < f.minimum_value:
        raise field_error("TooSmall", f"Custom field `{f.name}` takes numbers from {f.minimum_value}.", f.id)
    if f.maximum_value is not None and Decimal(str(number)) > f.maximum_value:
        raise field_error("TooLarge", f"Custom field `{f.name}` takes numbers up to {f.maximum_value}.", f.id)
    return number


def _date(f: FieldDef, text: str) -> str:
    try:
        moment = parse_timestamp(text, f.name)
    except ValidationFailed:
        raise field_error(
            "InvalidType", f"Custom field `{f.name}` takes an ISO 8601 date or date-time.", f.id
        ) from None
    if f.data_type == DATE:
        day = dt.datetime.fromisoformat(text.strip()).date()  # the date as written, whatever the offset
        low = f.minimum_date.date() if f.minimum_date else None
        high = f.maximum_date.date() if f.maximum_date else None
        if low is not None and day < low:
            raise field_error("TooEarly", f"Custom field `{f.name}` takes dates from {low.isoformat()}.", f.id)
        if high is not None and day > high:
            raise field_error("TooLate", f"Custom field `{f.name}` takes dates up to {high.isoformat()}.", f.id)
        return day.isoformat()
    if f.minimum_date is not None and moment < f.minimum_date:
        raise field_error("TooEarly", f"Custom field `{f.name}` takes times from {iso_ms(f.minimum_date)}.", f.id)
    if f.maximum_date is not None and moment > f.maximum_date:
        raise field_error("TooLate", f"Custom field `{f.name}` takes times up to {iso_ms(f.maximum_date)}.", f.id)
    return iso_ms(moment)


def stored_value(f: FieldDef, value: CustomFieldValue, budget: MatchBudget) -> Any:
    """The value to store (None: the field is cleared), after every check of data type and options; pattern
    checks spend from the request's `budget`."""
    given = _given(value)
    if not given:
        return None
    if not f.is_array:
        return _scalar(f, value, budget)
    if given != ["ArrayValues"]:
        raise field_error("InvalidType", f"Custom field `{f.name}` is an array: send ArrayValues.", f.id)
    items = value.ArrayValues or []
    if len(items) > MAX_ARRAY_ITEMS:
        raise field_error("TooLong", f"Custom field `{f.name}` holds at most {MAX_ARRAY_ITEMS} values.", f.id)
    return [_scalar(f, item, budget) for item in items]


def from_plain(f: FieldDef, value: Any) -> CustomFieldValue:
    """A pushed value by name: a plain JSON value (strings `true`/`false` for Bool, numeric strings for numbers
    are fine), an array of them for an array field, or EVA's value object."""
    if isinstance(value, dict):
        try:
            return msgspec.convert(value, CustomFieldValue, strict=False)
        except msgspec.ValidationError as exc:
            raise field_error("InvalidType", f"Custom field `{f.name}`: {exc}.", f.id) from None
    if value is None:
        return CustomFieldValue()
    if isinstance(value, list):
        return CustomFieldValue(ArrayValues=[from_plain(f, item) for item in value])
    want = PROPERTY[f.data_type]
    if f.data_type == BOOL and isinstance(value, str) and value.lower() in ("true", "false"):
        value = value.lower() == "true"
    elif want == "NumberValue" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value) if re.fullmatch(r"-?\d+", value.strip()) else float(value)
    elif want == "BlobValue" and isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = uuid.UUID(value)
    expected: type | tuple[type, ...] = PLAIN_TYPES[want]
    if not isinstance(value, expected) or (want == "NumberValue" and isinstance(value, bool)):
        raise field_error(
            "InvalidType", f"Custom field `{f.name}` ({DATA_TYPE_NAMES[f.data_type]}) cannot take {value!r}.", f.id
        )
    given: dict[str, Any] = {want: value}
    return CustomFieldValue(**given)


def wire_value(f: FieldDef, stored: Any) -> CustomFieldValue | None:
    """A stored value as EVA's value object (Integer as a JSON integer, DateTime with `Z`, Date as YYYY-MM-DD)."""
    if stored is None:
        return None
    if isinstance(stored, list):
        return CustomFieldValue(ArrayValues=[_wire_scalar(f, item) for item in stored])
    return _wire_scalar(f, stored)


def _wire_scalar(f: FieldDef, stored: Any) -> CustomFieldValue:
    prop = PROPERTY[f.data_type]
    if prop == "BlobValue":
        return CustomFieldValue(BlobValue=uuid.UUID(stored))
    if f.data_type == INTEGER:
        stored = int(stored)
    return CustomFieldValue(**{prop: stored})


def shown(stored: Any) -> str:
    """A value in a note line."""
    if isinstance(stored, list):
        return ", ".join(shown(item) for item in stored)
    if isinstance(stored, bool):
        return "true" if stored else "false"
    return str(stored)
