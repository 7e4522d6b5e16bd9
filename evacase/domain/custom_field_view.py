"""What a case shows of its custom fields: every field the caller's user type may see, with its options and value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from evacase.db import load_queries
from evacase.domain.custom_field_changes import current_values
from evacase.domain.custom_fields import CustomFieldValue, FieldDef, case_fields, wire_value
from evacase.messages import Message, iso_ms

SQL = load_queries("custom_fields")


class CustomFieldOptionsView(Message, kw_only=True):
    DefaultCustomFieldValue: CustomFieldValue | None = None
    IsEditable: bool | None = None
    IsRequired: bool | None = None
    MaximumDate: str | None = None
    MaximumLength: int | None = None
    MaximumValue: float | None = None
    MinimumDate: str | None = None
    MinimumLength: int | None = None
    MinimumValue: float | None = None
    Regex: str | None = None


class CaseCustomFieldValue(Message, kw_only=True):
    """One entry of `CustomFieldValuesWithOptions` (keyed by field ID); Name, DisplayName, DataType, IsArray and
    EnumValues are evacase's additions."""

    CustomFieldID: int
    CustomFieldBackendID: str | None = None
    Name: str
    DisplayName: str | None = None
    DataType: int
    IsArray: bool
    EnumValues: dict[str, str] | None = None
    Options: CustomFieldOptionsView
    Value: CustomFieldValue | None = None


def number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def case_view(fields: dict[int, FieldDef], values: dict[int, Any], user_type: int) -> dict[int, CaseCustomFieldValue]:
    """Every field `user_type` may see, with its value when the case has one."""
    return {
        f.id: CaseCustomFieldValue(
            CustomFieldID=f.id,
            CustomFieldBackendID=f.backend_id,
            Name=f.name,
            DisplayName=f.display_name,
            DataType=f.data_type,
            IsArray=f.is_array,
            EnumValues=f.enum_values,
            Options=CustomFieldOptionsView(
                DefaultCustomFieldValue=wire_value(f, f.default_value),
                IsEditable=f.editable_by(user_type),
                IsRequired=f.is_required,
                MaximumDate=iso_ms(f.maximum_date),
                MaximumLength=f.maximum_length,
                MaximumValue=number(f.maximum_value),
                MinimumDate=iso_ms(f.minimum_date),
                MinimumLength=f.minimum_length,
                MinimumValue=number(f.minimum_value),
                Regex=f.regex,
            ),
            Value=wire_value(f, values.get(f.id)),
        )
        for f in fields.values()
        if f.visible_to(user_type)
    }


async def case_custom_fields(conn: asyncpg.Connection, case_id: int, user_type: int) -> dict[int, CaseCustomFieldValue]:
    fields = await case_fields(conn)
    if not fields:
        return {}
    return case_view(fields, await current_values(conn, case_id), user_type)
