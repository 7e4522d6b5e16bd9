"""What a request changes of a case's custom-field values: checked against visibility, editability, data type and
options, planned (defaults, Required), stored and noted privately (never in the customer-visible ledger)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from evacase.db import load_queries
from evacase.domain.changes import InteractionType
from evacase.domain.custom_fields import (
    CustomFieldKeyValue,
    FieldDef,
    case_fields,
    decode_json,
    encode_json,
    field_error,
    from_plain,
    shown,
    stored_value,
    unknown_field,
)
from evacase.errors import ValidationFailed
from evacase.patterns import MatchBudget

SQL = load_queries("custom_fields")


@dataclass(slots=True)
class Changes:
    """The values to write (field ID -> stored value), the fields to clear, and the note's lines."""

    set: dict[int, Any] = field(default_factory=dict)
    cleared: list[int] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        return "\n".join(self.lines) if self.lines else None


def plan_changes(
    fields: dict[int, FieldDef],
    wanted: dict[int, Any],
    current: dict[int, Any],
    *,
    creating: bool,
    editor: int | None,
) -> Changes:
    """From `wanted` (field ID -> stored value, None clears) to what changes. On creation, defaults fill the
    fields left out. `editor` is the user type the Required rule is applied for (None: not applied, as for
    imports): a required field it may edit needs a value on creation and cannot be cleared."""
    wanted = dict(wanted)
    if creating:
        for f in fields.values():
            if f.id not in wanted and f.default_value is not None:
                wanted[f.id] = f.default_value
    if editor is not None:
        for f in fields.values():
            required = f.is_required and f.editable_by(editor)
            # On creation every field counts; on an update only those the request clears.
            if required and (creating or f.id in wanted) and wanted.get(f.id) is None:
                raise field_error("Required", f"Custom field `{f.name}` is required.", f.id)
    changes = Changes()
    for field_id, value in wanted.items():
        name = fields[field_id].name
        if value is None:
            if field_id in current:
                changes.cleared.append(field_id)
                changes.lines.append(f"Custom field `{name}` cleared")
        elif current.get(field_id) != value:
            changes.set[field_id] = value
            changes.lines.append(f"Custom field `{name}` set to `{shown(value)}`")
    return changes


def wanted_by_id(fields: dict[int, FieldDef], values: list[CustomFieldKeyValue], user_type: int) -> dict[int, Any]:
    """Request values by field ID, checked for visibility, editability, data type and options."""
    wanted: dict[int, Any] = {}
    budget = MatchBudget()
    for kv in values:
        f = fields.get(kv.CustomFieldID)
        if f is None or not f.visible_to(user_type):
            raise unknown_field(kv.CustomFieldID)
        if not f.editable_by(user_type):
            raise field_error("NotAllowed", f"You may not change custom field `{f.name}`.", f.id)
        wanted[f.id] = stored_value(f, kv, budget)
    return wanted


def wanted_by_name(fields: dict[int, FieldDef], values: dict[str, Any]) -> dict[int, Any]:
    """Pushed values by field name (case-insensitively), checked for data type and options only."""
    by_name = {f.name.lower(): f for f in fields.values()}
    wanted: dict[int, Any] = {}
    budget = MatchBudget()
    for name, value in values.items():
        f = by_name.get(name.lower())
        if f is None:
            raise ValidationFailed(
                f"There is no case custom field named `{name}`.",
                "CustomFields:UnknownFieldForType",
                data={"Field": f"CustomFields.{name}"},
            )
        wanted[f.id] = stored_value(f, from_plain(f, value), budget)
    return wanted


async def current_values(conn: asyncpg.Connection, case_id: int) -> dict[int, Any]:
    rows = await conn.fetch(SQL["case_values"], case_id)
    return {r["custom_field_id"]: decode_json(r["value"]) for r in rows}


async def write_changes(conn: asyncpg.Connection, case_id: int, changes: Changes, author_id: int) -> None:
    """Store the changes and note them privately (employees only ever see the note)."""
    if changes.set:
        await conn.execute(
            SQL["set_values"], case_id, list(changes.set), [encode_json(v) for v in changes.set.values()]
        )
    if changes.cleared:
        await conn.execute(SQL["clear_values"], case_id, changes.cleared)
    if changes.note is not None:
        await conn.execute(SQL["add_note"], case_id, InteractionType.NOTE, changes.note, author_id)


async def apply_values(
    conn: asyncpg.Connection,
    case_id: int,
    values: list[CustomFieldKeyValue] | None,
    *,
    user_type: int,
    author_id: int,
    creating: bool,
) -> None:
    """CreateCase/UpdateCase and their customer counterparts: check and store `values` for `user_type`."""
    if not values and not creating:
        return
    fields = await case_fields(conn)
    if not fields:
        if values:
            raise unknown_field(values[0].CustomFieldID)
        return
    wanted = wanted_by_id(fields, values or [], user_type)
    current = {} if creating else await current_values(conn, case_id)
    changes = plan_changes(fields, wanted, current, creating=creating, editor=user_type)
    await write_changes(conn, case_id, changes, author_id)
