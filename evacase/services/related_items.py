"""What a case is about: SetCaseRelatedData (order, external order identifier, related items) and
RemoveCaseRelatedItems. Related items keep OrderLineID, ProductID, SerialNumber and warranty details as given."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.cases import lock_staff_case
from evacase.domain.changes import record_case_change, related_items_line
from evacase.errors import (
    CaseOrderRequiredToOverwriteCustomer,
    CaseRelatedItemNotFound,
    OrderNotFound,
)
from evacase.messages import EmptyResponse, Id, Message, to_utc
from evacase.registry import OperationSet, staff
from evacase.services.wire import ExternalOrderIdentifier

ops = OperationSet()

SQL = load_queries("related_items")

MAX_ITEMS_PER_REQUEST = 100
SerialNumber = Annotated[str, msgspec.Meta(max_length=200)]
Info = Annotated[str, msgspec.Meta(max_length=1000)]


class RelatedItem(Message, kw_only=True):
    OrderLineID: Id | None = None
    ProductID: Id | None = None
    SerialNumber: SerialNumber | None = None
    IsWarranty: bool = False
    WarrantyExpiration: dt.datetime | None = None
    WarrantyAdditionalInformation: Info | None = None


class SetCaseRelatedData(Message, kw_only=True):
    CaseID: Id
    OrderID: Id | None = None
    ExternalOrderIdentifier: ExternalOrderIdentifier | None = None
    OverwriteCaseCustomerWithCustomerOfOrder: bool = False
    RelatedItems: Annotated[list[RelatedItem], msgspec.Meta(max_length=MAX_ITEMS_PER_REQUEST)] | None = None


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """A time without an offset is UTC."""
    return None if value is None else to_utc(value, "RelatedItems.WarrantyExpiration")


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def set_case_related_data(ctx: Context, req: SetCaseRelatedData) -> EmptyResponse:
    case = await lock_staff_case(ctx.conn, ctx.caller, req.CaseID)
    order_id = req.OrderID if req.OrderID is not None else case["order_id"]
    external = (
        req.ExternalOrderIdentifier if req.ExternalOrderIdentifier is not None else case["external_order_identifier"]
    )
    customer_id = case["customer_id"]
    lines = []
    if req.OverwriteCaseCustomerWithCustomerOfOrder:
        if order_id is None:
            raise CaseOrderRequiredToOverwriteCustomer()
        order_customer = await ctx.conn.fetchval(SQL["order_customer"], order_id)
        if order_customer is None:
            raise OrderNotFound()
        if order_customer != customer_id:
            customer_id = order_customer
            lines.append("Case customer set to the customer of the order")
    if order_id != case["order_id"]:
        lines.insert(0, f"Case order set to `{order_id}`")
    if external != case["external_order_identifier"]:
        lines.append("Case external order identifier updated")
    if lines:
        await ctx.conn.execute(SQL["set_order"], req.CaseID, order_id, external, customer_id)
    items = req.RelatedItems or []
    if items:
        await ctx.conn.execute(
            *SQL.bound(
                "add_items",
                case_id=req.CaseID,
                order_line_ids=[i.OrderLineID for i in items],
                product_ids=[i.ProductID for i in items],
                serial_numbers=[i.SerialNumber for i in items],
                is_warranty=[i.IsWarranty for i in items],
                warranty_expirations=[utc(i.WarrantyExpiration) for i in items],
                infos=[i.WarrantyAdditionalInformation for i in items],
                actor=ctx.caller.user_id,
            )
        )
        lines.append(related_items_line(len(items), "added to"))
    await record_case_change(ctx.conn, req.CaseID, ctx.caller.user_id, lines)
    return EmptyResponse()


class RemoveCaseRelatedItems(Message, kw_only=True):
    CaseID: Id
    ItemIDs: list[Id]
    RemoveAll: bool = False


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def remove_case_related_items(ctx: Context, req: RemoveCaseRelatedItems) -> EmptyResponse:
    await lock_staff_case(ctx.conn, ctx.caller, req.CaseID)
    removed = await ctx.conn.fetch(SQL["remove_items"], req.CaseID, req.ItemIDs, req.RemoveAll)
    missing = sorted(set(req.ItemIDs) - {r["id"] for r in removed})
    if missing and not req.RemoveAll:
        raise CaseRelatedItemNotFound(data={"ItemIDs": missing})
    if removed:
        count = len(removed)
        lines = [related_items_line(count, "removed from")]
        await record_case_change(ctx.conn, req.CaseID, ctx.caller.user_id, lines)
    return EmptyResponse()
