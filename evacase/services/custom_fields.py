"""Custom fields of cases: CreateCustomField, UpdateCustomField, DeleteCustomField, GetCustomFieldByID,
GetCustomFieldTypes, ListCustomFields, SetCustomFieldOptions, UnsetCustomFieldOptions, ListCustomFieldOptions.

Fields exist for EVA's Case type (9) only. DataType, IsArray and TypeID are fixed at creation. One set of
options per field (its OrganizationUnitSetID is kept and echoed; organization-unit sets are not modelled).
Deleting a field removes its definition and every case's value of it, in one statement."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.auth import Scope, UserType
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.custom_fields import (
    CASE_TYPE_ID,
    CUSTOMER,
    ENUM,
    CustomFieldValue,
    FieldDef,
    decode_json,
    encode_json,
    stored_value,
    wire_value,
)
from evacase.errors import (
    CustomFieldNotFound,
    CustomFieldsDataTypeEnumRequiresSomeEnumValues,
    CustomFieldsEnumValuesAreOnlyAllowedWhenCustomFieldIsOfDataTypeEnum,
    CustomFieldsInvalidOptions,
    CustomFieldsUnsupportedType,
)
from evacase.messages import (
    EmptyRequest,
    EmptyResponse,
    FilterText,
    Id,
    Message,
    PageConfig,
    PagedRequest,
    PagedResponse,
    iso_ms,
    merged,
    parse_timestamp,
)
from evacase.patterns import MatchBudget, check_pattern
from evacase.registry import Access, OperationSet, staff

ops = OperationSet()

SQL = load_queries("custom_fields")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Label = Annotated[str, msgspec.Meta(max_length=1000)]
DataType = Annotated[int, msgspec.Meta(ge=0, le=8)]
Order = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
Length = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
UserTypes = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
EnumValues = Annotated[
    dict[Annotated[str, msgspec.Meta(min_length=1, max_length=200)], Label], msgspec.Meta(max_length=1000)
]
Timestamp = Annotated[str, msgspec.Meta(max_length=64)]
MIN_ORDER = -(2**31)


def check_enum_values(data_type: int, enum_values: dict[str, str] | None) -> None:
    if data_type == ENUM and not enum_values:
        raise CustomFieldsDataTypeEnumRequiresSomeEnumValues(data={"Field": "EnumValues"})
    if data_type != ENUM and enum_values is not None:
        raise CustomFieldsEnumValuesAreOnlyAllowedWhenCustomFieldIsOfDataTypeEnum(data={"Field": "EnumValues"})


# --- CreateCustomField ----------------------------------------------------------------------------------


class CreateCustomField(Message, kw_only=True):
    Name: Name
    DataType: DataType = 0
    IsArray: bool = False
    TypeID: Id = CASE_TYPE_ID
    TypeKey: Label | None = None
    DisplayName: Label | None = None
    InputHint: Label | None = None
    BackendID: Label | None = None
    EnumValues: EnumValues | None = None
    Order: Order = 0


class CreateCustomFieldResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("CustomFields", Scope.CREATE), writes=True, one_statement=True)
async def create_custom_field(ctx: Context, req: CreateCustomField) -> CreateCustomFieldResponse:
    if req.TypeID != CASE_TYPE_ID:
        raise CustomFieldsUnsupportedType(
            f"Custom fields can only be created for cases (TypeID {CASE_TYPE_ID}).", data={"Field": "TypeID"}
        )
    check_enum_values(req.DataType, req.EnumValues)
    field_id = await ctx.conn.fetchval(
        SQL["create_field"],
        req.TypeID,
        req.Name,
        req.DisplayName,
        req.InputHint,
        req.TypeKey,
        req.BackendID,
        req.DataType,
        req.IsArray,
        encode_json(req.EnumValues) if req.EnumValues is not None else None,
        req.Order,
    )
    return CreateCustomFieldResponse(ID=field_id)


# --- GetCustomFieldByID ---------------------------------------------------------------------------------


class GetCustomFieldByID(Message, kw_only=True):
    ID: Id


class CustomFieldDto(Message, kw_only=True):
    ID: int
    Name: str
    DisplayName: str | None = None
    InputHint: str | None = None
    BackendID: str | None = None
    DataType: int
    IsArray: bool
    EnumValues: dict[str, str] | None = None
    Order: int
    TypeID: int
    TypeKey: str | None = None
    TypeName: str


class GetCustomFieldByIDResponse(CustomFieldDto, kw_only=True):
    VisibleByUserTypes: int | None = None
    EditableByUserTypes: int | None = None


def field_dto(row: asyncpg.Record, cls: type[CustomFieldDto] = CustomFieldDto, **extra: Any) -> Any:
    return cls(
        ID=row["id"],
        Name=row["name"],
        DisplayName=row["display_name"],
        InputHint=row["input_hint"],
        BackendID=row["backend_id"],
        DataType=row["data_type"],
        IsArray=row["is_array"],
        EnumValues=decode_json(row["enum_values"]),
        Order=row["display_order"],
        TypeID=row["type_id"],
        TypeKey=row["type_key"],
        TypeName="Case",
        **extra,
    )


@ops.operation(staff("CustomFields", Scope.VIEW), writes=False)
async def get_custom_field_by_id(ctx: Context, req: GetCustomFieldByID) -> GetCustomFieldByIDResponse:
    row = await ctx.conn.fetchrow(SQL["get_field"], req.ID)
    if row is None:
        raise CustomFieldNotFound()
    field: GetCustomFieldByIDResponse = field_dto(
        row,
        GetCustomFieldByIDResponse,
        VisibleByUserTypes=row["visible_mask"],
        EditableByUserTypes=row["editable_mask"],
    )
    return field


# --- UpdateCustomField ----------------------------------------------------------------------------------


class UpdateCustomField(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET  # a name cannot be cleared: null is refused
    DisplayName: Label | msgspec.UnsetType | None = msgspec.UNSET
    InputHint: Label | msgspec.UnsetType | None = msgspec.UNSET
    TypeKey: Label | msgspec.UnsetType | None = msgspec.UNSET
    BackendID: Label | msgspec.UnsetType | None = msgspec.UNSET
    EnumValues: EnumValues | msgspec.UnsetType | None = msgspec.UNSET
    Order: Order | msgspec.UnsetType = msgspec.UNSET


UPDATE_FIELD_COLUMNS = {
    "Name": "name",
    "DisplayName": "display_name",
    "InputHint": "input_hint",
    "TypeKey": "type_key",
    "BackendID": "backend_id",
    "EnumValues": "enum_values",
    "Order": "display_order",
}


@ops.operation(staff("CustomFields", Scope.EDIT), writes=True)
async def update_custom_field(ctx: Context, req: UpdateCustomField) -> EmptyResponse:
    row = await ctx.conn.fetchrow(SQL["lock_field"], req.ID)
    if row is None:
        raise CustomFieldNotFound()

    new = merged(req, {**row, "enum_values": decode_json(row["enum_values"])}, UPDATE_FIELD_COLUMNS)
    check_enum_values(row["data_type"], new["enum_values"])
    enum_values = encode_json(new["enum_values"]) if new["enum_values"] is not None else None
    await ctx.conn.execute(
        SQL["update_field"],
        req.ID,
        new["name"],
        new["display_name"],
        new["input_hint"],
        new["type_key"],
        new["backend_id"],
        enum_values,
        new["display_order"],
    )
    return EmptyResponse()


# --- DeleteCustomField ----------------------------------------------------------------------------------


class DeleteCustomField(Message, kw_only=True):
    ID: Id


@ops.operation(staff("CustomFields", Scope.DELETE), writes=True, one_statement=True)
async def delete_custom_field(ctx: Context, req: DeleteCustomField) -> EmptyResponse:
    row = await ctx.conn.fetchrow(SQL["delete_field"], req.ID)
    if not row["deleted"]:
        raise CustomFieldNotFound()
    return EmptyResponse()


# --- GetCustomFieldTypes --------------------------------------------------------------------------------


class GetCustomFieldTypes(EmptyRequest):
    pass


class CustomFieldTypeDto(Message, kw_only=True):
    ID: int
    Name: str
    Description: str


class GetCustomFieldTypesResponse(Message, kw_only=True):
    CustomFieldTypes: list[CustomFieldTypeDto]


@ops.operation(staff("CustomFieldTypes", Scope.VIEW), writes=False)
async def get_custom_field_types(ctx: Context, req: GetCustomFieldTypes) -> GetCustomFieldTypesResponse:
    """The entity types fields can be made for: evacase keeps cases only, EVA's type 9."""
    return GetCustomFieldTypesResponse(
        CustomFieldTypes=[CustomFieldTypeDto(ID=CASE_TYPE_ID, Name="Case", Description="Case")]
    )


# --- ListCustomFields -----------------------------------------------------------------------------------


class CustomFieldFilter(Message, kw_only=True):
    Name: FilterText | None = None
    BackendID: FilterText | None = None
    DataType: DataType | None = None
    TypeID: Id | None = None
    TypeKey: FilterText | None = None


class ListCustomFieldsPageConfig(PageConfig, kw_only=True):
    Filter: CustomFieldFilter | None = None


class ListCustomFields(PagedRequest, kw_only=True):
    InitialPageConfig: ListCustomFieldsPageConfig | None = None


class ListCustomFieldsResponse(PagedResponse, kw_only=True):
    Results: list[CustomFieldDto]


@ops.operation(Access(user_types=UserType.EMPLOYEE | UserType.API | UserType.CUSTOMER), writes=False)
async def list_custom_fields(ctx: Context, req: ListCustomFields) -> ListCustomFieldsResponse:
    """Fields in their Order, then by ID. Customers see only the fields visible to customers."""
    config = req.InitialPageConfig or ListCustomFieldsPageConfig()
    f = config.Filter or CustomFieldFilter()
    filters = {"Name": f.Name, "BackendID": f.BackendID, "DataType": f.DataType, "TypeKey": f.TypeKey}
    customer = ctx.caller.is_customer
    page_req = ctx.page_tokens.request("ListCustomFields", req.PageToken, config.Limit, filters, scope=int(customer))
    if f.TypeID is not None and f.TypeID != CASE_TYPE_ID and page_req.first:
        return ListCustomFieldsResponse(Results=[])
    order, after_id = page_req.key if page_req.key else (MIN_ORDER, 0)
    fl = page_req.filter
    rows = await ctx.conn.fetch(
        SQL["list_fields_after" if page_req.forward else "list_fields_before"],
        order,
        after_id,
        contains_pattern(fl.get("Name")),
        fl.get("BackendID"),
        fl.get("DataType"),
        fl.get("TypeKey"),
        CUSTOMER if customer else None,
        page_req.limit + 1,
    )
    page = ctx.page_tokens.page(page_req, rows, lambda r: (r["display_order"], r["id"]))
    return ListCustomFieldsResponse(Results=[field_dto(r) for r in page.rows], **page.tokens())


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
    await ctx.conn.execute(
        SQL["set_options"],
        req.CustomFieldID,
        req.OrganizationUnitSetID if req.OrganizationUnitSetID is not None else row["organization_unit_set_id"],
        new["IsRequired"],
        new["MinimumLength"],
        new["MaximumLength"],
        new["MinimumValue"],
        new["MaximumValue"],
        new["MinimumDate"],
        new["MaximumDate"],
        new["Regex"],
        stored_default,
        new["VisibleByUserTypes"],
        new["EditableByUserTypes"],
        new["EligibilityScriptID"],
        new["SecurityScriptID"],
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


class CustomFieldOptionsFilter(Message, kw_only=True):
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
    rows = await ctx.conn.fetch(
        SQL["list_options_after" if page_req.forward else "list_options_before"],
        page_req.id_key(),
        fl.get("CustomFieldID"),
        fl.get("Sets"),
        page_req.limit + 1,
    )
    page = ctx.page_tokens.page(page_req, rows, lambda r: (r["id"],))
    return ListCustomFieldOptionsResponse(Results=[options_dto(r) for r in page.rows], **page.tokens())
