"""Service levels, evacase's own services (functionality `ServiceLevelPolicies`): business-hours calendars
(CreateServiceLevelCalendar, UpdateServiceLevelCalendar, DeleteServiceLevelCalendar, GetServiceLevelCalendar,
ListServiceLevelCalendars) and policies with their targets (CreateServiceLevelPolicy, UpdateServiceLevelPolicy,
DeleteServiceLevelPolicy, GetServiceLevelPolicy, ListServiceLevelPolicies). README, "Service levels"."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.service_levels import (
    CalendarRefused,
    business_hours_of,
    holidays_of,
    opening_of,
    zone_of,
)
from evacase.errors import (
    ServiceLevelCalendarNotFound,
    ServiceLevelPolicyNotFound,
    ValidationFailed,
)
from evacase.messages import EmptyResponse, Id, Message, PageConfig, PagedRequest, PagedResponse, iso_ms, or_current
from evacase.registry import OperationSet, staff
from evacase.services.wire import CaseConditions, condition_columns, conditions_of

ops = OperationSet()

SQL = load_queries("service_levels")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
TimeOfDay = Annotated[str, msgspec.Meta(max_length=5)]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=10 * 366 * 24 * 60)]
Position = Annotated[int, msgspec.Meta(ge=-1_000_000, le=1_000_000)]
Percent = Annotated[int, msgspec.Meta(ge=1, le=99)]
Origin = Annotated[str, msgspec.Meta(max_length=16)]
BIG = 2**31


class TimeRange(Message, kw_only=True):
    From: TimeOfDay
    To: TimeOfDay


BusinessHours = dict[str, Annotated[list[TimeRange], msgspec.Meta(max_length=10)]]
Holidays = Annotated[list[dt.date], msgspec.Meta(max_length=1000)]


class ServiceLevelCalendarDto(Message, kw_only=True):
    ID: int
    Name: str
    TimeZone: str
    BusinessHours: dict[str, list[TimeRange]]
    Holidays: list[dt.date]
    CreationTime: str
    LastModificationTime: str


def calendar_dto(row: asyncpg.Record) -> ServiceLevelCalendarDto:
    opening = msgspec.json.decode(row["opening"])
    hours = {
        day: [TimeRange(From=r["From"], To=r["To"]) for r in ranges]
        for day, ranges in business_hours_of(opening).items()
    }
    return ServiceLevelCalendarDto(
        ID=row["id"],
        Name=row["name"],
        TimeZone=row["time_zone"],
        BusinessHours=hours,
        Holidays=list(row["holidays"]),
        CreationTime=iso_ms(row["creation_time"]),
        LastModificationTime=iso_ms(row["last_modification_time"]),
    )


def checked_calendar(time_zone: str, hours: BusinessHours, holidays: list[dt.date]) -> dict[str, Any]:
    """The columns of a calendar, checked (400 ServiceLevelCalendar:Invalid naming the problem)."""
    try:
        zone_of(time_zone)
        wire = {day: [{"From": r.From, "To": r.To} for r in ranges] for day, ranges in hours.items()}
        opening = opening_of(wire)
    except CalendarRefused as exc:
        raise ValidationFailed(str(exc), code="ServiceLevelCalendar:Invalid") from None
    return {
        "time_zone": time_zone,
        "business_hours": msgspec.json.encode(wire).decode(),
        "opening": msgspec.json.encode(opening).decode(),
        "holidays": holidays_of(holidays),
    }


# --- calendars ----------------------------------------------------------------------------------------------


class CreateServiceLevelCalendar(Message, kw_only=True):
    Name: Name
    TimeZone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    BusinessHours: BusinessHours
    Holidays: Holidays = msgspec.field(default_factory=list)


class CreateServiceLevelCalendarResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("ServiceLevelPolicies", Scope.CREATE), writes=True, one_statement=True)
async def create_service_level_calendar(
    ctx: Context, req: CreateServiceLevelCalendar
) -> CreateServiceLevelCalendarResponse:
    columns = checked_calendar(req.TimeZone, req.BusinessHours, req.Holidays)
    calendar_id = await ctx.conn.fetchval(*SQL.bound("create_calendar", name=req.Name, **columns))
    return CreateServiceLevelCalendarResponse(ID=calendar_id)


class UpdateServiceLevelCalendar(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET
    TimeZone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | msgspec.UnsetType = msgspec.UNSET
    BusinessHours: BusinessHours | msgspec.UnsetType = msgspec.UNSET
    Holidays: Holidays | msgspec.UnsetType = msgspec.UNSET


@ops.operation(staff("ServiceLevelPolicies", Scope.EDIT), writes=True)
async def update_service_level_calendar(ctx: Context, req: UpdateServiceLevelCalendar) -> EmptyResponse:
    row = await ctx.conn.fetchrow(SQL["lock_calendar"], req.ID)
    if row is None:
        raise ServiceLevelCalendarNotFound()
    current = calendar_dto(row)
    columns = checked_calendar(
        current.TimeZone if req.TimeZone is msgspec.UNSET else req.TimeZone,
        current.BusinessHours if req.BusinessHours is msgspec.UNSET else req.BusinessHours,
        current.Holidays if req.Holidays is msgspec.UNSET else req.Holidays,
    )
    name = current.Name if req.Name is msgspec.UNSET else req.Name
    await ctx.conn.execute(*SQL.bound("update_calendar", id=req.ID, name=name, **columns))
    return EmptyResponse()


class DeleteServiceLevelCalendar(Message, kw_only=True):
    ID: Id


@ops.operation(staff("ServiceLevelPolicies", Scope.DELETE), writes=True, one_statement=True)
async def delete_service_level_calendar(ctx: Context, req: DeleteServiceLevelCalendar) -> EmptyResponse:
    if await ctx.conn.fetchval(SQL["delete_calendar"], req.ID) is None:
        raise ServiceLevelCalendarNotFound()
    return EmptyResponse()


class GetServiceLevelCalendar(Message, kw_only=True):
    ID: Id


@ops.operation(staff("ServiceLevelPolicies", Scope.VIEW), writes=False)
async def get_service_level_calendar(ctx: Context, req: GetServiceLevelCalendar) -> ServiceLevelCalendarDto:
    row = await ctx.conn.fetchrow(SQL["get_calendar"], req.ID)
    if row is None:
        raise ServiceLevelCalendarNotFound()
    return calendar_dto(row)


class ListServiceLevelCalendars(PagedRequest, kw_only=True):
    InitialPageConfig: PageConfig | None = None


class ListServiceLevelCalendarsResponse(PagedResponse, kw_only=True):
    Results: list[ServiceLevelCalendarDto]


@ops.operation(staff("ServiceLevelPolicies", Scope.VIEW), writes=False)
async def list_service_level_calendars(
    ctx: Context, req: ListServiceLevelCalendars
) -> ListServiceLevelCalendarsResponse:
    config = req.InitialPageConfig or PageConfig()
    page_req = ctx.page_tokens.request("ListServiceLevelCalendars", req.PageToken, config.Limit, {})
    page = await ctx.fetch_page(SQL, "list_calendars", page_req, lambda r: (r["id"],), bound_id=page_req.id_key())
    return ListServiceLevelCalendarsResponse(Results=[calendar_dto(r) for r in page.rows], **page.tokens())


# --- policies -----------------------------------------------------------------------------------------------


class ServiceLevelPolicyDto(Message, kw_only=True):
    ID: int
    Name: str
    Position: int
    CalendarID: int | None = None
    Conditions: CaseConditions
    FirstResponseMinutes: int | None = None
    NextResponseMinutes: int | None = None
    ResolutionMinutes: int | None = None
    WarningPercent: int
    CreationTime: str
    LastModificationTime: str


def policy_dto(row: asyncpg.Record) -> ServiceLevelPolicyDto:
    return ServiceLevelPolicyDto(
        ID=row["id"],
        Name=row["name"],
        Position=row["position"],
        CalendarID=row["calendar_id"],
        Conditions=conditions_of(row),
        FirstResponseMinutes=row["first_response_minutes"],
        NextResponseMinutes=row["next_response_minutes"],
        ResolutionMinutes=row["resolution_minutes"],
        WarningPercent=row["warning_percent"],
        CreationTime=iso_ms(row["creation_time"]),
        LastModificationTime=iso_ms(row["last_modification_time"]),
    )


class CreateServiceLevelPolicy(Message, kw_only=True):
    Name: Name
    Position: Position = 0
    CalendarID: Id | None = None
    Conditions: CaseConditions | None = None
    FirstResponseMinutes: Minutes | None = None
    NextResponseMinutes: Minutes | None = None
    ResolutionMinutes: Minutes | None = None
    WarningPercent: Percent = 80


class CreateServiceLevelPolicyResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("ServiceLevelPolicies", Scope.CREATE), writes=True, one_statement=True)
async def create_service_level_policy(ctx: Context, req: CreateServiceLevelPolicy) -> CreateServiceLevelPolicyResponse:
    policy_id = await ctx.conn.fetchval(
        *SQL.bound(
            "create_policy",
            name=req.Name,
            position=req.Position,
            calendar_id=req.CalendarID,
            first_response_minutes=req.FirstResponseMinutes,
            next_response_minutes=req.NextResponseMinutes,
            resolution_minutes=req.ResolutionMinutes,
            warning_percent=req.WarningPercent,
            **condition_columns(req.Conditions, "ServiceLevelPolicy:Invalid"),
        )
    )
    return CreateServiceLevelPolicyResponse(ID=policy_id)


class UpdateServiceLevelPolicy(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET
    Position: Position | msgspec.UnsetType = msgspec.UNSET
    CalendarID: Id | msgspec.UnsetType | None = msgspec.UNSET
    Conditions: CaseConditions | msgspec.UnsetType | None = msgspec.UNSET
    FirstResponseMinutes: Minutes | msgspec.UnsetType | None = msgspec.UNSET
    NextResponseMinutes: Minutes | msgspec.UnsetType | None = msgspec.UNSET
    ResolutionMinutes: Minutes | msgspec.UnsetType | None = msgspec.UNSET
    WarningPercent: Percent | msgspec.UnsetType = msgspec.UNSET


@ops.operation(staff("ServiceLevelPolicies", Scope.EDIT), writes=True)
async def update_service_level_policy(ctx: Context, req: UpdateServiceLevelPolicy) -> EmptyResponse:
    row = await ctx.conn.fetchrow(SQL["lock_policy"], req.ID)
    if row is None:
        raise ServiceLevelPolicyNotFound()
    current = policy_dto(row)
    conditions = current.Conditions if req.Conditions is msgspec.UNSET else req.Conditions
    await ctx.conn.execute(
        *SQL.bound(
            "update_policy",
            id=req.ID,
            name=or_current(req.Name, current.Name),
            position=or_current(req.Position, current.Position),
            calendar_id=or_current(req.CalendarID, current.CalendarID),
            first_response_minutes=or_current(req.FirstResponseMinutes, current.FirstResponseMinutes),
            next_response_minutes=or_current(req.NextResponseMinutes, current.NextResponseMinutes),
            resolution_minutes=or_current(req.ResolutionMinutes, current.ResolutionMinutes),
            warning_percent=or_current(req.WarningPercent, current.WarningPercent),
            **condition_columns(conditions, "ServiceLevelPolicy:Invalid"),
        )
    )
    return EmptyResponse()


class DeleteServiceLevelPolicy(Message, kw_only=True):
    ID: Id


@ops.operation(staff("ServiceLevelPolicies", Scope.DELETE), writes=True, one_statement=True)
async def delete_service_level_policy(ctx: Context, req: DeleteServiceLevelPolicy) -> EmptyResponse:
    if await ctx.conn.fetchval(SQL["delete_policy"], req.ID) is None:
        raise ServiceLevelPolicyNotFound()
    return EmptyResponse()


class GetServiceLevelPolicy(Message, kw_only=True):
    ID: Id


@ops.operation(staff("ServiceLevelPolicies", Scope.VIEW), writes=False)
async def get_service_level_policy(ctx: Context, req: GetServiceLevelPolicy) -> ServiceLevelPolicyDto:
    row = await ctx.conn.fetchrow(SQL["get_policy"], req.ID)
    if row is None:
        raise ServiceLevelPolicyNotFound()
    return policy_dto(row)


class ListServiceLevelPolicies(PagedRequest, kw_only=True):
    InitialPageConfig: PageConfig | None = None


class ListServiceLevelPoliciesResponse(PagedResponse, kw_only=True):
    Results: list[ServiceLevelPolicyDto]


@ops.operation(staff("ServiceLevelPolicies", Scope.VIEW), writes=False)
async def list_service_level_policies(ctx: Context, req: ListServiceLevelPolicies) -> ListServiceLevelPoliciesResponse:
    config = req.InitialPageConfig or PageConfig()
    page_req = ctx.page_tokens.request("ListServiceLevelPolicies", req.PageToken, config.Limit, {})
    position, policy_id = page_req.key if page_req.key else (-BIG, 0)
    page = await ctx.fetch_page(
        SQL, "list_policies", page_req, lambda r: (r["position"], r["id"]), position=position, policy_id=policy_id
    )
    return ListServiceLevelPoliciesResponse(Results=[policy_dto(r) for r in page.rows], **page.tokens())
