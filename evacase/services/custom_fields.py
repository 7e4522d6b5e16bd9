"""Custom fields of cases: CreateCustomField, UpdateCustomField, DeleteCustomField, GetCustomFieldByID,
GetCustomFieldTypes, ListCustomFields (their options: custom_field_options.py).

Fields exist for EVA's Case type (9) only. DataType, IsArray and TypeID are fixed at creation. One set of
options per field (its OrganizationUnitSetID is kept and echoed; organization-unit sets are not modelled).
Deleting a field removes its definition and every case's value of it, in one statement."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.auth import Scope, UserType
from evacase.context import Context
from evacase.db import contains_pattern, load_queries
from evacase.domain.custom_fields import CASE_TYPE_ID, CUSTOMER, ENUM, decode_json, encode_json
from evacase.errors import (
    CustomFieldNotFound,
    CustomFieldsDataTypeEnumRequiresSomeEnumValues,
    CustomFieldsEnumValuesAreOnlyAllowedWhenCustomFieldIsOfDataTypeEnum,
    CustomFieldsUnsupportedType,
)
from evacase.messages import (
    EmptyRequest,
    EmptyResponse,
    FilterText,
    Id,
    ListFilter,
    Message,
    PageConfig,
    PagedRequest,
    PagedResponse,
    merged,
)
from evacase.registry import Access, OperationSet, staff
from evacase.services.wire import Label

ops = OperationSet()

SQL = load_queries("custom_fields")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
DataType = Annotated[int, msgspec.Meta(ge=0, le=8)]
Order = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
EnumValues = Annotated[
    dict[Annotated[str, msgspec.Meta(min_length=1, max_length=200)], Label], msgspec.Meta(max_length=1000)
]
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
        *SQL.bound(
            "create_field",
            type_id=req.TypeID,
            name=req.Name,
            display_name=req.DisplayName,
            input_hint=req.InputHint,
            type_key=req.TypeKey,
            backend_id=req.BackendID,
            data_type=req.DataType,
            is_array=req.IsArray,
            enum_values=encode_json(req.EnumValues) if req.EnumValues is not None else None,
            display_order=req.Order,
        )
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
        *SQL.bound(
            "update_field",
            field_id=req.ID,
            name=new["name"],
            display_name=new["display_name"],
            input_hint=new["input_hint"],
            type_key=new["type_key"],
            backend_id=new["backend_id"],
            enum_values=enum_values,
            display_order=new["display_order"],
        )
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


class CustomFieldFilter(ListFilter, kw_only=True):
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
    page = await ctx.fetch_page(
        SQL,
        "list_fields",
        page_req,
        lambda r: (r["display_order"], r["id"]),
        bound_order=order,
        bound_id=after_id,
        name=contains_pattern(fl.get("Name")),
        backend_id=fl.get("BackendID"),
        data_type=fl.get("DataType"),
        type_key=fl.get("TypeKey"),
        visible_mask=CUSTOMER if customer else None,
    )
    return ListCustomFieldsResponse(Results=[field_dto(r) for r in page.rows], **page.tokens())
