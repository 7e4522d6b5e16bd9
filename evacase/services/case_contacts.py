"""AddCaseContact, RemoveCaseContact (staff) and CustomerAddCaseContact, CustomerRemoveCaseContact (the case's
customer): a case's notification and technical contacts and watchers (evacase's own; seed 001). The case views
show them; customers never see staff-only ones (watchers included)."""

from __future__ import annotations

from evacase.auth import Scope
from evacase.context import Context
from evacase.domain.cases import lock_customer_case, lock_staff_case
from evacase.domain.contacts import add_contacts, contacts_json, remove_contact
from evacase.messages import EmptyResponse, Id, Message
from evacase.registry import OperationSet, staff
from evacase.services.wire import CUSTOMER_ACCESS, CaseContactData

ops = OperationSet()


class AddCaseContact(Message, kw_only=True):
    CaseID: Id
    Contact: CaseContactData


class AddCaseContactResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def add_case_contact(ctx: Context, req: AddCaseContact) -> AddCaseContactResponse:
    contacts = contacts_json([req.Contact], by_customer=False)
    await lock_staff_case(ctx.conn, ctx.caller, req.CaseID, closed_ok=True)
    (contact_id,) = await add_contacts(ctx.conn, req.CaseID, contacts, ctx.caller.user_id)
    return AddCaseContactResponse(ID=contact_id)


class RemoveCaseContact(Message, kw_only=True):
    CaseID: Id
    ContactID: Id


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def remove_case_contact(ctx: Context, req: RemoveCaseContact) -> EmptyResponse:
    await lock_staff_case(ctx.conn, ctx.caller, req.CaseID, closed_ok=True)
    await remove_contact(ctx.conn, req.CaseID, req.ContactID, ctx.caller.user_id, by_customer=False)
    return EmptyResponse()


class CustomerAddCaseContact(Message, kw_only=True):
    CaseID: Id
    Contact: CaseContactData


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_add_case_contact(ctx: Context, req: CustomerAddCaseContact) -> AddCaseContactResponse:
    contacts = contacts_json([req.Contact], by_customer=True)
    await lock_customer_case(ctx.conn, ctx.caller, req.CaseID)
    (contact_id,) = await add_contacts(ctx.conn, req.CaseID, contacts, ctx.caller.user_id)
    return AddCaseContactResponse(ID=contact_id)


class CustomerRemoveCaseContact(Message, kw_only=True):
    CaseID: Id
    ContactID: Id


@ops.operation(CUSTOMER_ACCESS, writes=True)
async def customer_remove_case_contact(ctx: Context, req: CustomerRemoveCaseContact) -> EmptyResponse:
    await lock_customer_case(ctx.conn, ctx.caller, req.CaseID)
    await remove_contact(ctx.conn, req.CaseID, req.ContactID, ctx.caller.user_id, by_customer=True)
    return EmptyResponse()
