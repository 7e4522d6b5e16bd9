"""The case receipt: PrintCaseReceipt (EVA's: to the configured printer) and GetCaseReceipt (evacase's: the same PDF
as a temporary blob, for clients that print or mail it themselves). Rendering: domain/receipts.py."""

from __future__ import annotations

import asyncio

import asyncpg

from evacase.auth import Caller, Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.cases import case_viewer
from evacase.domain.printing import print_pdf
from evacase.domain.receipts import MAX_MESSAGES, ReceiptCase, ReceiptMessage, render_receipt
from evacase.domain.stored_blobs import NewBlob, create_blob, upload_of
from evacase.errors import CaseNotFound
from evacase.messages import EmptyResponse, Id, Message, full_name
from evacase.registry import OperationSet, staff
from evacase.services.wire import BlobCreated

ops = OperationSet()

SQL = load_queries("cases")


async def receipt_pdf(conn: asyncpg.Connection, caller: Caller, case_id: int) -> bytes:
    """The receipt of a case the caller may see, rendered in a worker thread (it takes milliseconds)."""
    row = await conn.fetchrow(SQL["receipt_case"], case_id, case_viewer(caller))
    if row is None:
        raise CaseNotFound()
    rows = await conn.fetch(SQL["receipt_messages"], case_id, MAX_MESSAGES)
    case = ReceiptCase(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        customer=full_name(row["customer_first_name"], row["customer_last_name"]),
        topic=row["topic"],
        status=row["status_name"],
        priority=row["priority"],
        reporting_time=row["reporting_time"],
        closing_time=row["closing_time"],
    )
    messages = [
        ReceiptMessage(r["type"], full_name(r["first_name"], r["last_name"]), r["creation_time"], r["text"])
        for r in rows
    ]
    omitted = rows[0]["total"] - len(rows) if rows else 0
    return await asyncio.to_thread(render_receipt, case, messages, omitted)


class PrintCaseReceipt(Message, kw_only=True):
    CaseID: Id
    StationID: Id | None = None


@ops.operation(staff("Cases", Scope.VIEW), writes=False)
async def print_case_receipt(ctx: Context, req: PrintCaseReceipt) -> EmptyResponse:
    command = ctx.print_targets.command(req.StationID)  # 400 before any work when nothing prints there
    await print_pdf(command, await receipt_pdf(ctx.conn, ctx.caller, req.CaseID))
    return EmptyResponse()


class GetCaseReceipt(Message, kw_only=True):
    CaseID: Id


@ops.operation(staff("Cases", Scope.VIEW), writes=True, own_transactions=True)
async def get_case_receipt(ctx: Context, req: GetCaseReceipt) -> BlobCreated:
    settings = ctx.blob_settings
    pdf = await receipt_pdf(ctx.conn, ctx.caller, req.CaseID)
    upload = upload_of(pdf, max(settings.max_bytes, len(pdf)))  # a long conversation may exceed the upload limit
    try:
        guid, _ = await create_blob(ctx.conn, settings, ctx.caller, NewBlob("application/pdf"), upload)
    finally:
        upload.file.close()
    return BlobCreated(Guid=guid, Url=ctx.blob_url(guid))
