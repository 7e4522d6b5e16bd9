"""LinkCases, UnlinkCases: links between cases (evacase's own; seed 003). GetCaseByID shows them as
`LinkedCases`, from the side of the case shown; a duplicate can be closed by its link (CloseWithStatusID)."""

from __future__ import annotations

from typing import Literal

from evacase.auth import Scope
from evacase.context import Context
from evacase.domain.links import link_cases as domain_link_cases
from evacase.domain.links import unlink_cases as domain_unlink_cases
from evacase.messages import EmptyResponse, Id, Message
from evacase.registry import OperationSet, staff

ops = OperationSet()


class LinkCases(Message, kw_only=True):
    CaseID: Id
    LinkedCaseID: Id
    Type: Literal["Related", "DuplicateOf", "FollowUpOf"] = "Related"  # CaseID is the duplicate, the follow-up
    CloseWithStatusID: Id | None = None  # DuplicateOf only: close CaseID into this (closing) status


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def link_cases(ctx: Context, req: LinkCases) -> EmptyResponse:
    await domain_link_cases(ctx.conn, ctx.caller, req.CaseID, req.LinkedCaseID, req.Type, req.CloseWithStatusID)
    return EmptyResponse()


class UnlinkCases(Message, kw_only=True):
    CaseID: Id
    LinkedCaseID: Id


@ops.operation(staff("Cases", Scope.EDIT), writes=True)
async def unlink_cases(ctx: Context, req: UnlinkCases) -> EmptyResponse:
    await domain_unlink_cases(ctx.conn, ctx.caller, req.CaseID, req.LinkedCaseID)
    return EmptyResponse()
