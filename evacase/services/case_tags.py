"""AddCaseTags, RemoveCaseTags: staff's labels on a case (evacase's own; seed 003's case tags). Tags are
normalised (domain/tags.py), shown as `Tags` in GetCaseByID and ListCases, filtered by ListCases' `Tag`, and never
shown to customers."""

from __future__ import annotations

from typing import Annotated

import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.domain.tags import MAX_TAGS_PER_CASE, add_tags, normalized_tags, remove_tags
from evacase.messages import EmptyResponse, Id, Message
from evacase.registry import OperationSet, staff
from evacase.services.wire import TagText

ops = OperationSet()

Tags = Annotated[list[TagText], msgspec.Meta(min_length=1, max_length=MAX_TAGS_PER_CASE)]


class AddCaseTags(Message, kw_only=True):
    CaseID: Id
    Tags: Tags


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def add_case_tags(ctx: Context, req: AddCaseTags) -> EmptyResponse:
    await add_tags(ctx.conn, ctx.caller, req.CaseID, normalized_tags(req.Tags))
    return EmptyResponse()


class RemoveCaseTags(Message, kw_only=True):
    CaseID: Id
    Tags: Tags


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def remove_case_tags(ctx: Context, req: RemoveCaseTags) -> EmptyResponse:
    await remove_tags(ctx.conn, ctx.caller, req.CaseID, normalized_tags(req.Tags))
    return EmptyResponse()
