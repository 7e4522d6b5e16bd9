"""ListChangedCases: the change feed for polling integrations (evacase's own; seed 002's "updated cases since").

`{"Since": time}` (or nothing: from now) starts it; each answer's NextPageToken continues it, also after an
empty page, so a poller always holds a cursor. The feed is read in transaction order and never goes past a
transaction still running (domain outbox: case_events.txid), so a change that commits late is not skipped and
none is repeated beyond the page boundary. Customers see their own cases, staff those of their organization
units. A cursor stays valid while the events behind it are kept (EVACASE_EVENT_RETENTION_DAYS)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from evacase.auth import Scope, UserType
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.cases import case_viewer
from evacase.domain.contacts import contacts_by_case
from evacase.errors import ValidationFailed
from evacase.messages import MAX_PAGE_SIZE, Message, to_utc
from evacase.paging import PageRequest
from evacase.registry import Access, OperationSet
from evacase.services.wire import CaseContact, contact_views

ops = OperationSet()

SQL = load_queries("events")

SCAN = 5000  # events read per page at most: a page may come back short (even empty) with a cursor further on
OP = "ListChangedCases"


class ListChangedCases(Message, kw_only=True):
    Since: dt.datetime | None = None
    PageToken: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    Limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE)] | None = None


class ChangedCase(Message, kw_only=True):
    ID: int
    BackendID: str | None = None
    StatusID: int
    LastModificationTime: str
    Contacts: list[CaseContact] | None = None  # evacase's own: who a notifier tells (a customer's: theirs only)


class ListChangedCasesResponse(Message, kw_only=True):
    Results: list[ChangedCase]
    NextPageToken: str


@ops.operation(
    Access(
        user_types=UserType.EMPLOYEE | UserType.API | UserType.CUSTOMER,
        functionality=("Cases", Scope.VIEW),
        exempt=UserType.CUSTOMER,
    ),
    writes=False,
)
async def list_changed_cases(ctx: Context, req: ListChangedCases) -> ListChangedCasesResponse:
    is_customer = ctx.caller.user_type == UserType.CUSTOMER
    scope = ctx.caller.user_id if is_customer else None  # a customer's cursor is theirs only
    if req.PageToken:
        page = ctx.page_tokens.decode(req.PageToken, OP, scope)
        if page.key is None or len(page.key) != 2:
            raise ValidationFailed("PageToken is not valid for this request.", "InvalidPageToken")
        position, limit = (page.key[0], page.key[1]), req.Limit or page.limit
    else:
        since = to_utc(req.Since, "Since") if req.Since is not None else dt.datetime.now(dt.UTC)
        position, limit = (await ctx.conn.fetchval(SQL["feed_start"], since), 0), req.Limit or MAX_PAGE_SIZE
    row = await ctx.conn.fetchrow(
        *SQL.bound(
            "change_feed",
            txid=position[0],
            event_id=position[1],
            scan=SCAN,
            limit=limit,
            customer_id=ctx.caller.user_id if is_customer else None,
            viewer=None if is_customer else case_viewer(ctx.caller),
        )
    )
    if row["next_txid"] is not None:
        position = (row["next_txid"], row["next_id"])
    cursor = PageRequest(OP, scope, True, position, limit, {}, first=False)
    contacts = await contacts_by_case(ctx.conn, [c[0] for c in row["cases"]], for_customer=is_customer)
    return ListChangedCasesResponse(
        Results=[
            ChangedCase(
                ID=case_id,
                BackendID=backend_id,
                StatusID=status_id,
                LastModificationTime=modified,
                Contacts=contact_views(contacts.get(case_id, []), for_customer=is_customer),
            )
            for case_id, backend_id, status_id, modified in row["cases"]
        ],
        NextPageToken=ctx.page_tokens.encode(cursor, True, position),
    )
