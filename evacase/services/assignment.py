"""Automatic assignment, evacase's own services: ordered rules (CreateAssignmentRule, UpdateAssignmentRule,
DeleteAssignmentRule, ListAssignmentRules; functionality `AssignmentRules`) and employees' availability
(SetEmployeeAvailability: with `AssignmentRules:Edit`, or an employee for themself). The picking itself is the
database's (auto_assign_case, schema.sql), in the creating transaction. README, "Service levels"."""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
import msgspec

from evacase.auth import Scope, UserType
from evacase.context import Context
from evacase.db import load_queries
from evacase.errors import AssignmentRuleNotFound, Forbidden, UserNotFound, ValidationFailed
from evacase.messages import EmptyResponse, Id, Message, PageConfig, PagedRequest, PagedResponse, iso_ms, or_current
from evacase.registry import Access, OperationSet, staff
from evacase.services.wire import CaseConditions, condition_columns, conditions_of

ops = OperationSet()

SQL = load_queries("assignment")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
Position = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
Method = Literal["RoundRobin", "FewestOpenCases"]
Cap = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Assignees = Annotated[list[Id], msgspec.Meta(min_length=1, max_length=1000)]
BIG = 2**31


class AssignmentRuleDto(Message, kw_only=True):
    ID: int
    Name: str
    Position: int
    Conditions: CaseConditions
    AssigneeIDs: list[int]
    Method: str
    MaxOpenCasesPerAssignee: int | None = None
    LastAssigneeID: int | None = None
    CreationTime: str
    LastModificationTime: str


def rule_dto(row: asyncpg.Record) -> AssignmentRuleDto:
    return AssignmentRuleDto(
        ID=row["id"],
        Name=row["name"],
        Position=row["position"],
        Conditions=conditions_of(row),
        AssigneeIDs=list(row["assignee_ids"]),
        Method=row["method"],
        MaxOpenCasesPerAssignee=row["max_open_cases_per_assignee"],
        LastAssigneeID=row["last_assignee_id"],
        CreationTime=iso_ms(row["creation_time"]),
        LastModificationTime=iso_ms(row["last_modification_time"]),
    )


async def check_assignees(conn: asyncpg.Connection, ids: list[int]) -> list[int]:
    """The assignees, each a known employee (400 AssignmentRule:InvalidAssignee naming the others)."""
    unknown = await conn.fetchval(SQL["not_employees"], ids)
    if unknown:
        raise ValidationFailed(
            "AssigneeIDs must be known employees.", "AssignmentRule:InvalidAssignee", data={"UserIDs": list(unknown)}
        )
    return list(dict.fromkeys(ids))


class CreateAssignmentRule(Message, kw_only=True):
    Name: Name
    Position: Position = 0
    Conditions: CaseConditions | None = None
    AssigneeIDs: Assignees
    Method: Method = "RoundRobin"
    MaxOpenCasesPerAssignee: Cap | None = None


class CreateAssignmentRuleResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("AssignmentRules", Scope.CREATE), writes=True)
async def create_assignment_rule(ctx: Context, req: CreateAssignmentRule) -> CreateAssignmentRuleResponse:
    assignees = await check_assignees(ctx.conn, req.AssigneeIDs)
    rule_id = await ctx.conn.fetchval(
        *SQL.bound(
            "create_rule",
            name=req.Name,
            position=req.Position,
            assignee_ids=assignees,
            method=req.Method,
            max_open_cases_per_assignee=req.MaxOpenCasesPerAssignee,
            **condition_columns(req.Conditions, "AssignmentRule:Invalid"),
        )
    )
    return CreateAssignmentRuleResponse(ID=rule_id)


class UpdateAssignmentRule(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET
    Position: Position | msgspec.UnsetType = msgspec.UNSET
    Conditions: CaseConditions | msgspec.UnsetType | None = msgspec.UNSET
    AssigneeIDs: Assignees | msgspec.UnsetType = msgspec.UNSET
    Method: Method | msgspec.UnsetType = msgspec.UNSET
    MaxOpenCasesPerAssignee: Cap | msgspec.UnsetType | None = msgspec.UNSET


@ops.operation(staff("AssignmentRules", Scope.EDIT), writes=True)
async def update_assignment_rule(ctx: Context, req: UpdateAssignmentRule) -> EmptyResponse:
    row = await ctx.conn.fetchrow(SQL["lock_rule"], req.ID)
    if row is None:
        raise AssignmentRuleNotFound()
    current = rule_dto(row)
    assignees = current.AssigneeIDs
    if req.AssigneeIDs is not msgspec.UNSET:
        assignees = await check_assignees(ctx.conn, req.AssigneeIDs)
    await ctx.conn.execute(
        *SQL.bound(
            "update_rule",
            id=req.ID,
            name=or_current(req.Name, current.Name),
            position=or_current(req.Position, current.Position),
            assignee_ids=assignees,
            method=or_current(req.Method, current.Method),
            max_open_cases_per_assignee=or_current(req.MaxOpenCasesPerAssignee, current.MaxOpenCasesPerAssignee),
            **condition_columns(
                current.Conditions if req.Conditions is msgspec.UNSET else req.Conditions, "AssignmentRule:Invalid"
            ),
        )
    )
    return EmptyResponse()


class DeleteAssignmentRule(Message, kw_only=True):
    ID: Id


@ops.operation(staff("AssignmentRules", Scope.DELETE), writes=True, one_statement=True)
async def delete_assignment_rule(ctx: Context, req: DeleteAssignmentRule) -> EmptyResponse:
    if await ctx.conn.fetchval(SQL["delete_rule"], req.ID) is None:
        raise AssignmentRuleNotFound()
    return EmptyResponse()


class ListAssignmentRules(PagedRequest, kw_only=True):
    InitialPageConfig: PageConfig | None = None


class ListAssignmentRulesResponse(PagedResponse, kw_only=True):
    Results: list[AssignmentRuleDto]


@ops.operation(staff("AssignmentRules", Scope.VIEW), writes=False)
async def list_assignment_rules(ctx: Context, req: ListAssignmentRules) -> ListAssignmentRulesResponse:
    config = req.InitialPageConfig or PageConfig()
    page_req = ctx.page_tokens.request("ListAssignmentRules", req.PageToken, config.Limit, {})
    position, rule_id = page_req.key if page_req.key else (-BIG, 0)
    page = await ctx.fetch_page(
        SQL, "list_rules", page_req, lambda r: (r["position"], r["id"]), position=position, rule_id=rule_id
    )
    return ListAssignmentRulesResponse(Results=[rule_dto(r) for r in page.rows], **page.tokens())


class SetEmployeeAvailability(Message, kw_only=True):
    UserID: Id
    IsAvailable: bool


@ops.operation(Access(user_types=UserType.EMPLOYEE | UserType.API), writes=True)
async def set_employee_availability(ctx: Context, req: SetEmployeeAvailability) -> EmptyResponse:
    if req.UserID != ctx.caller.user_id and not ctx.caller.has_functionality("AssignmentRules", Scope.EDIT):
        raise Forbidden(
            "Only the employee themself, or a user with the functionality AssignmentRules:Edit, may set this.",
            data={"Functionality": "AssignmentRules:Edit"},
        )
    if not await ctx.conn.fetchval(SQL["set_availability"], req.UserID, req.IsAvailable):
        raise UserNotFound("The user is not a known employee.")
    return EmptyResponse()
