"""Options of case custom fields: SetCustomFieldOptions, UnsetCustomFieldOptions and ListCustomFieldOptions
(the rules the values are checked against live in domain/custom_fields.py)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.custom_fields import CustomFieldValue, FieldDef, encode_json, stored_value, wire_value
from evacase.errors import (
    CustomFieldNotFound,
    CustomFieldsInvalidOptions,
)
from evacase.messages import (
    EmptyResponse,
    Id,
    ListFilter,
    Message,
    PageConfig,
    PagedRequest,
    PagedResponse,
    iso_ms,
    parse_timestamp,
)
from evacase.patterns import MatchBudget, check_pattern
from evacase.registry import OperationSet, staff
from evacase.services.wire import Label, Length, Timestamp, UserTypes

ops = OperationSet()

SQL = load_queries("custom_fields")


# --- SetCustomFieldOptions ------------------------------------------------------------------------------


class SetCustomFieldOptions(Message, kw_only=True):
    CustomFieldID: Id
    OrganizationUnitSetID: Id | None = None
    IsRequired: bool | msgspec.UnsetType | None = msgspec.UNSET
    MinimumLength: Length | msgspec.UnsetType | None = msgspec.UNSET
    MaximumLength: Length | msgspec.UnsetType | None = msgspec.UNSET
    MinimumValue: float | msgspec.UnsetType | None = msgspec.UNSET
    MaximumValue: float | msgspec.UnsetType | None = msgspec.UNSET
    MinimumDate: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    MaximumDate: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    Regex: Label | msgspec.UnsetType | None = msgspec.UNSET
    CustomFieldDefaultValue: CustomFieldValue | msgspec.UnsetType | None = msgspec.UNSET
    VisibleByUserTypes: UserTypes | msgspec.UnsetType | None = msgspec.UNSET
    EditableByUserTypes: UserTypes | msgspec.UnsetType | None = msgspec.UNSET
    EligibilityScriptID: Id | msgspec.UnsetType | None = msgspec.UNSET
    SecurityScriptID: Id | msgspec.UnsetType | None = msgspec.UNSET


# The options set as they are (the default value, checked against the others, is the handler's).
OPTION_COLUMNS = {
    "IsRequired": "is_required",
    "MinimumLength": "minimum_length",
    "MaximumLength": "maximum_length",
    "MinimumValue": "minimum_value",
    "MaximumValue": "maximum_value",
    "MinimumDate": "minimum_date",
    "MaximumDate": "maximum_date",
    "Regex": "regex",
    "VisibleByUserTypes": "visible_by_user_types",
    "EditableByUserTypes": "editable_by_user_types",
    "EligibilityScriptID": "eligibility_script_id",
    "SecurityScriptID": "security_script_id",
}


def option_value(row: asyncpg.Record, req: SetCustomFieldOptions, field: str) -> Any:
    """The option's new value (absent keeps the stored one, null clears), in the column's form."""
    value = getattr(req, field)
    column = OPTION_COLUMNS[field]
    if value is msgspec.UNSET:
        return row[column]
    if value is None:
        return None
    if field in ("MinimumDate", "MaximumDate"):
        return parse_timestamp(value, field)
    if field in ("MinimumValue", "MaximumValue"):
        if not math.isfinite(value):
            raise CustomFieldsInvalidOptions(f"{field} must be a finite number.", data={"Field": field})
        return Decimal(str(value))
    if field == "Regex":
        check_pattern(value)
    return value


@ops.operation(staff("CustomFields", Scope.EDIT), writes=True)
async def set_custom_field_options(ctx: Context, req: SetCustomFieldOptions) -> EmptyResponse:
    """Merges: an option left out keeps its value, `null` clears it."""
    row = await ctx.conn.fetchrow(SQL["lock_field"], req.CustomFieldID)
    if row is None:
        raise CustomFieldNotFound()
    new = {field: option_value(row, req, field) for field in OPTION_COLUMNS}
    for low, high in (
        ("MinimumLength", "MaximumLength"),
        ("MinimumValue", "MaximumValue"),
        ("MinimumDate", "MaximumDate"),
    ):
        if new[low] is not None and new[high] is not None and new[low] > new[high]:
            raise CustomFieldsInvalidOptions(f"{low} cannot be above {high}.", data={"Field": low})
    default = req.CustomFieldDefaultValue
    if default is msgspec.UNSET:
        stored_default = row["default_value"]
    elif default is None:
        stored_default = None
    else:
        # The default is checked against the field's data type and the new options, like any value.
        bounds = {OPTION_COLUMNS[k]: v for k, v in new.items()}
        definition = FieldDef.of({**dict(row), **bounds, "default_value": None})
        stored_default = encode_json(stored_value(definition, default, MatchBudget()))
    unit_set = req.OrganizationUnitSetID if req.OrganizationUnitSetID is not None else row["organization_unit_set_id"]
    await ctx.conn.execute(
        *SQL.bound(
            "set_options",
            field_id=req.CustomFieldID,
            organization_unit_set_id=unit_set,
            is_required=new["IsRequired"],
            minimum_length=new["MinimumLength"],
            maximum_length=new["MaximumLength"],
            minimum_value=new["MinimumValue"],
            maximum_value=new["MaximumValue"],
            minimum_date=new["MinimumDate"],
            maximum_date=new["MaximumDate"],
            regex=new["Regex"],
            default_value=stored_default,
            visible_by_user_types=new["VisibleByUserTypes"],
            editable_by_user_types=new["EditableByUserTypes"],
            eligibility_script_id=new["EligibilityScriptID"],
            security_script_id=new["SecurityScriptID"],
        )
    )
    return EmptyResponse()


# --- UnsetCustomFieldOptions ----------------------------------------------------------------------------


class UnsetCustomFieldOptions(Message, kw_only=True):
    CustomFieldID: Id
    OrganizationUnitSetID: Id | None = None


@ops.operation(staff("CustomFields", Scope.EDIT), writes=True, one_statement=True)
async def unset_custom_field_options(ctx: Context, req: UnsetCustomFieldOptions) -> EmptyResponse:
    """Back to no options: visible to and editable by Employee, System and Api users, invisible to customers."""
    if await ctx.conn.fetchval(SQL["unset_options"], req.CustomFieldID) is None:
        raise CustomFieldNotFound()
    return EmptyResponse()


# --- ListCustomFieldOptions -----------------------------------------------------------------------------


class CustomFieldOptionsFilter(ListFilter, kw_only=True):
    CustomFieldID: Id | None = None
    OrganizationUnitID: Id | None = None  # organization-unit sets are not modelled: ignored
    OrganizationUnitSetID: Id | None = None
    OrganizationUnitSetIDs: Annotated[list[Id], msgspec.Meta(max_length=100)] | None = None


class ListCustomFieldOptionsPageConfig(PageConfig, kw_only=True):
    Filter: CustomFieldOptionsFilter | None = None


class ListCustomFieldOptions(PagedRequest, kw_only=True):
    InitialPageConfig: ListCustomFieldOptionsPageConfig | None = None


class OrganizationUnitSetRef(Message, kw_only=True):
    ID: int


class CustomFieldOptionsDto(Message, kw_only=True):
    CustomFieldID: int  # an evacase addition: which field the options are of
    OrganizationUnitSet: OrganizationUnitSetRef | None = None
    IsRequired: bool | None = None
    MinimumLength: int | None = None
    MaximumLength: int | None = None
    MinimumValue: float | None = None
    MaximumValue: float | None = None
    MinimumDate: str | None = None
    MaximumDate: str | None = None
    Regex: str | None = None
    CustomFieldDefaultValue: CustomFieldValue | None = None
    VisibleByUserTypes: int | None = None
    EditableByUserTypes: int | None = None
    EligibilityScriptID: int | None = None
    SecurityScriptID: int | None = None


class ListCustomFieldOptionsResponse(PagedResponse, kw_only=True):
    Results: list[CustomFieldOptionsDto]


def options_dto(row: asyncpg.Record) -> CustomFieldOptionsDto:
    definition = FieldDef.of(row)
    unit_set = row["organization_unit_set_id"]
    return CustomFieldOptionsDto(
        CustomFieldID=row["id"],
        OrganizationUnitSet=OrganizationUnitSetRef(ID=unit_set) if unit_set is not None else None,
        IsRequired=row["is_required"],
        MinimumLength=row["minimum_length"],
        MaximumLength=row["maximum_length"],
        MinimumValue=float(row["minimum_value"]) if row["minimum_value"] is not None else None,
        MaximumValue=float(row["maximum_value"]) if row["maximum_value"] is not None else None,
        MinimumDate=iso_ms(row["minimum_date"]),
        MaximumDate=iso_ms(row["maximum_date"]),
        Regex=row["regex"],
        CustomFieldDefaultValue=wire_value(definition, definition.default_value),
        VisibleByUserTypes=row["visible_by_user_types"],
        EditableByUserTypes=row["editable_by_user_types"],
        EligibilityScriptID=row["eligibility_script_id"],
        SecurityScriptID=row["security_script_id"],
    )


@ops.operation(staff("CustomFields", Scope.VIEW), writes=False)
async def list_custom_field_options(ctx: Context, req: ListCustomFieldOptions) -> ListCustomFieldOptionsResponse:
    config = req.InitialPageConfig or ListCustomFieldOptionsPageConfig()
    f = config.Filter or CustomFieldOptionsFilter()
    sets = list(f.OrganizationUnitSetIDs or [])
    if f.OrganizationUnitSetID is not None:
        sets.append(f.OrganizationUnitSetID)
    filters = {"CustomFieldID": f.CustomFieldID, "Sets": sets or None}
    page_req = ctx.page_tokens.request("ListCustomFieldOptions", req.PageToken, config.Limit, filters)
    fl = page_req.filter
    page = await ctx.fetch_page(
        SQL,
        "list_options",
        page_req,
        lambda r: (r["id"],),
        bound_id=page_req.id_key(),
        field_id=fl.get("CustomFieldID"),
        unit_sets=fl.get("Sets"),
    )
    return ListCustomFieldOptionsResponse(Results=[options_dto(r) for r in page.rows], **page.tokens())
