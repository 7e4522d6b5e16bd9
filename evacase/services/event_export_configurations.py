"""EVA's event export configurations: what is sent where (CreateEventExportConfiguration,
UpdateEventExportConfiguration, DeleteEventExportConfiguration, GetEventExportConfiguration,
GetEventExportConfigurations, GetEventExportTargetTypes, TestEventExportConfiguration, ReplayEvents).

evacase exports the `Cases` target (README, "Event exports"): MessageTypes of other targets are accepted and
select nothing; organization unit sets and scripts are refused (ignoring them would export what they exclude);
Protocol and ResponseMode are kept and shown (deliveries are HTTP/1.1 and succeed on any 2xx)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.deliveries import Outcome
from evacase.domain.event_exports import (
    MASK,
    ConfigurationRefused,
    ExportSettings,
    case_event_types,
    check_authorization,
    check_unsupported_filters,
    delivery_for,
    excluded_case_event_types,
    seal_authorization,
    send_test_event,
    shown_authorization,
)
from evacase.domain.events import CASE_EVENT_TYPES, CASES_TARGET
from evacase.domain.secrets import SecretUnavailable
from evacase.errors import EndpointConfigurationNotFound, EventExportConfigurationNotFound, ValidationFailed
from evacase.messages import EmptyResponse, Id, Message, iso_ms, or_current
from evacase.registry import OperationSet, staff
from evacase.services.wire import DeliveryTestResult, delivery_test_result, export_settings

ops = OperationSet()

SQL = load_queries("event_exports")

Name = Annotated[str, msgspec.Meta(max_length=255)]
BackendID = Annotated[str, msgspec.Meta(max_length=255)]
Status = Annotated[int, msgspec.Meta(ge=1, le=4)]
Concurrency = Annotated[int, msgspec.Meta(ge=1, le=64)]
Timeout = Annotated[int, msgspec.Meta(ge=1, le=60)]
Target = Annotated[int, msgspec.Meta(ge=1, le=1000)]
Secret = Annotated[str, msgspec.Meta(max_length=4096)]
UnitIDs = Annotated[list[Id], msgspec.Meta(max_length=1000)]
MAX_REPLAY_EVENTS = 100_000

TARGET_NAMES = {11: "System", CASES_TARGET: "Cases"}


class MessageType(Message, kw_only=True):
    TargetID: Target
    EventType: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class ClientCertificate(Message, kw_only=True):
    Certificate: str
    Password: str | None = None


class ExportAuthorization(Message, kw_only=True):
    ClientCertificate: ClientCertificate | None = None
    StaticBearerToken: Secret | None = None
    StaticUnschemedToken: Secret | None = None


class ExportConfig(Message, kw_only=True):
    Authorization: ExportAuthorization | None = None
    MessageTypes: Annotated[list[MessageType], msgspec.Meta(max_length=100)] | None = None
    ExcludedMessageTypes: Annotated[list[MessageType], msgspec.Meta(max_length=100)] | None = None
    IncludeOrganizationUnits: UnitIDs | None = None
    ExcludeOrganizationUnits: UnitIDs | None = None
    IncludeOrganizationUnitSets: UnitIDs | None = None
    ExcludeOrganizationUnitSets: UnitIDs | None = None
    Protocol: Annotated[int, msgspec.Meta(ge=0, le=1)] | None = None
    ResponseMode: Annotated[int, msgspec.Meta(ge=0, le=1)] | None = None
    ScriptID: Id | None = None
    ScriptName: str | None = None
    TimeoutSeconds: Timeout | None = None


class EventExportConfigurationDto(Message, kw_only=True):
    ID: int
    Name: str
    BackendID: str | None = None
    ConcurrentRequests: int
    Config: dict[str, Any]
    EffectiveStatus: int
    Endpoint: str
    EndpointConfigurationID: int | None = None
    EndpointStatus: int | None = None
    ErrorReason: str | None = None
    IsReplay: bool
    Status: int
    SecretKey1: str  # never shown after creation or rotation: masked
    SecretKey2: str
    # evacase's own: the delivery health
    PendingDeliveries: int
    FailingDeliveries: int
    LastDeliveryTime: str | None = None


def refused(exc: Exception) -> ValidationFailed:
    return ValidationFailed(str(exc), code="EventExportConfiguration:Invalid")


def effective_status(row: asyncpg.Record) -> int:
    """The configuration's own status, unless its endpoint is gone or in error (3) or disabled (2)."""
    if row["endpoint_configuration_id"] is None:
        return 3
    if row["status"] == 1 and row["endpoint_status"] in (2, 3):
        return int(row["endpoint_status"])
    return int(row["status"])


def export_dto(settings: ExportSettings, row: asyncpg.Record) -> EventExportConfigurationDto:
    config: dict[str, Any] = dict(msgspec.json.decode(row["config"])) if isinstance(row["config"], str) else {}
    auth = shown_authorization(settings.sealer, row["auth_config"])
    if auth:
        config["Authorization"] = auth
    reason = row["error_reason"]
    if row["endpoint_configuration_id"] is None:
        reason = reason or "The endpoint configuration was deleted."
    return EventExportConfigurationDto(
        ID=row["id"],
        Name=row["name"],
        BackendID=row["backend_id"],
        ConcurrentRequests=row["concurrent_requests"],
        Config=config,
        EffectiveStatus=effective_status(row),
        Endpoint=row["endpoint"] or "",
        EndpointConfigurationID=row["endpoint_configuration_id"],
        EndpointStatus=row["endpoint_status"],
        ErrorReason=reason,
        IsReplay=row["replaying"],
        Status=row["status"],
        PendingDeliveries=row["pending_deliveries"],
        FailingDeliveries=row["failing_deliveries"],
        LastDeliveryTime=iso_ms(row["last_delivery_time"]),
        SecretKey1=MASK,
        SecretKey2=MASK,
    )


def config_columns(settings: ExportSettings, config: ExportConfig | None) -> dict[str, Any]:
    """The columns a Config sets: the filters as arrays, the authorization override sealed, the rest as given."""
    given: dict[str, Any] = msgspec.to_builtins(config) if config is not None else {}
    auth = given.pop("Authorization", None)
    try:
        check_unsupported_filters(given)
        check_authorization(auth)
        event_types = case_event_types(given.get("MessageTypes"))
        excluded = excluded_case_event_types(given.get("ExcludedMessageTypes"))
    except ConfigurationRefused as exc:
        raise refused(exc) from None
    return {
        "config": msgspec.json.encode(given).decode(),
        "auth_config": seal_authorization(settings.sealer, auth),
        "timeout_seconds": given.get("TimeoutSeconds"),
        "event_types": event_types,
        "excluded_event_types": excluded,
        "include_units": given.get("IncludeOrganizationUnits"),
        "exclude_units": given.get("ExcludeOrganizationUnits") or [],
    }


# --- CreateEventExportConfiguration ---------------------------------------------------------------------


class CreateEventExportConfiguration(Message, kw_only=True):
    Name: Name
    EndpointConfigurationID: Id
    BackendID: BackendID | None = None
    ConcurrentRequests: Concurrency | None = None
    Config: ExportConfig | None = None
    Status: Status = 1


class CreateEventExportConfigurationResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("EventExportConfiguration", Scope.CREATE), writes=True, one_statement=True)
async def create_event_export_configuration(
    ctx: Context, req: CreateEventExportConfiguration
) -> CreateEventExportConfigurationResponse:
    columns = config_columns(export_settings(ctx), req.Config)
    export_id = await ctx.conn.fetchval(
        *SQL.bound(
            "create_export",
            name=req.Name,
            backend_id=req.BackendID,
            endpoint_id=req.EndpointConfigurationID,
            status=req.Status,
            concurrent_requests=req.ConcurrentRequests or 1,
            created_by=ctx.caller.user_id,
            **columns,
        )
    )
    if export_id is None:
        raise EndpointConfigurationNotFound()
    return CreateEventExportConfigurationResponse(ID=export_id)


# --- UpdateEventExportConfiguration ---------------------------------------------------------------------


class UpdateEventExportConfiguration(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET
    BackendID: BackendID | msgspec.UnsetType | None = msgspec.UNSET
    EndpointConfigurationID: Id | msgspec.UnsetType = msgspec.UNSET
    ConcurrentRequests: Concurrency | msgspec.UnsetType | None = msgspec.UNSET
    Config: ExportConfig | msgspec.UnsetType | None = msgspec.UNSET
    Status: Status | msgspec.UnsetType = msgspec.UNSET


@ops.operation(staff("EventExportConfiguration", Scope.EDIT), writes=True)
async def update_event_export_configuration(ctx: Context, req: UpdateEventExportConfiguration) -> EmptyResponse:
    row = await ctx.conn.fetchrow(SQL["lock_export"], req.ID)
    if row is None:
        raise EventExportConfigurationNotFound()
    if req.Config is msgspec.UNSET:
        columns = {c: row[c] for c in ("config", "auth_config", "timeout_seconds", "event_types")}
        columns |= {c: row[c] for c in ("excluded_event_types", "include_units", "exclude_units")}
    else:
        columns = config_columns(export_settings(ctx), req.Config)
    endpoint_id = or_current(req.EndpointConfigurationID, row["endpoint_configuration_id"])
    if req.EndpointConfigurationID is not msgspec.UNSET and not await ctx.conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM endpoint_configurations WHERE id = $1)", endpoint_id
    ):
        raise EndpointConfigurationNotFound()
    await ctx.conn.execute(
        *SQL.bound(
            "update_export",
            id=req.ID,
            name=or_current(req.Name, row["name"]),
            backend_id=or_current(req.BackendID, row["backend_id"]),
            endpoint_id=endpoint_id,
            status=or_current(req.Status, row["status"]),
            concurrent_requests=or_current(req.ConcurrentRequests, row["concurrent_requests"]) or 1,
            **columns,
        )
    )
    return EmptyResponse()


# --- DeleteEventExportConfiguration ---------------------------------------------------------------------


class DeleteEventExportConfiguration(Message, kw_only=True):
    ID: Id


@ops.operation(staff("EventExportConfiguration", Scope.DELETE), writes=True, one_statement=True)
async def delete_event_export_configuration(ctx: Context, req: DeleteEventExportConfiguration) -> EmptyResponse:
    if await ctx.conn.fetchval(SQL["delete_export"], req.ID) is None:
        raise EventExportConfigurationNotFound()
    return EmptyResponse()


# --- GetEventExportConfiguration(s) ---------------------------------------------------------------------


class GetEventExportConfiguration(Message, kw_only=True):
    ID: Id


class GetEventExportConfigurationResponse(Message, kw_only=True):
    Result: EventExportConfigurationDto


@ops.operation(staff("EventExportConfiguration", Scope.VIEW), writes=False)
async def get_event_export_configuration(
    ctx: Context, req: GetEventExportConfiguration
) -> GetEventExportConfigurationResponse:
    row = await ctx.conn.fetchrow(SQL["get_export"], req.ID)
    if row is None:
        raise EventExportConfigurationNotFound()
    return GetEventExportConfigurationResponse(Result=export_dto(export_settings(ctx), row))


class GetEventExportConfigurations(Message, kw_only=True):
    pass


class GetEventExportConfigurationsResponse(Message, kw_only=True):
    Items: list[EventExportConfigurationDto]


@ops.operation(staff("EventExportConfiguration", Scope.VIEW), writes=False)
async def get_event_export_configurations(
    ctx: Context, req: GetEventExportConfigurations
) -> GetEventExportConfigurationsResponse:
    rows = await ctx.conn.fetch(SQL["list_exports"])
    return GetEventExportConfigurationsResponse(Items=[export_dto(export_settings(ctx), r) for r in rows])


# --- GetEventExportTargetTypes --------------------------------------------------------------------------


class GetEventExportTargetTypes(Message, kw_only=True):
    EventTarget: Target | None = None


class EventTargetTypes(Message, kw_only=True):
    Target: int
    Types: list[str]


class GetEventExportTargetTypesResponse(Message, kw_only=True):
    EventTargets: list[EventTargetTypes] | None = None
    EventTypes: list[str] | None = None


@ops.operation(staff("EventExportConfiguration", Scope.VIEW), writes=False)
async def get_event_export_target_types(
    ctx: Context, req: GetEventExportTargetTypes
) -> GetEventExportTargetTypesResponse:
    if req.EventTarget is None:
        return GetEventExportTargetTypesResponse(
            EventTargets=[EventTargetTypes(Target=CASES_TARGET, Types=list(CASE_EVENT_TYPES))]
        )
    types = list(CASE_EVENT_TYPES) if req.EventTarget == CASES_TARGET else []
    return GetEventExportTargetTypesResponse(EventTypes=types)


# --- TestEventExportConfiguration -----------------------------------------------------------------------


class TestEventExportConfiguration(Message, kw_only=True):
    ID: Id
    EventTarget: Target | None = None
    EventType: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


@ops.operation(staff("EventExportConfiguration", Scope.EDIT), writes=False)
async def test_event_export_configuration(ctx: Context, req: TestEventExportConfiguration) -> DeliveryTestResult:
    settings = export_settings(ctx)
    row = await ctx.conn.fetchrow(SQL["export_delivery"], req.ID)
    if row is None:
        raise EventExportConfigurationNotFound()
    if row["endpoint"] is None:
        raise EndpointConfigurationNotFound("The configuration's endpoint configuration was deleted.")
    try:
        delivery = delivery_for(settings, row, row["export_timeout_seconds"], row["export_auth_config"])
    except SecretUnavailable as exc:
        raise ValidationFailed(f"The endpoint's secrets cannot be read: {exc}") from None
    target = TARGET_NAMES.get(req.EventTarget or 11, str(req.EventTarget))
    outcome: Outcome = await send_test_event(settings, delivery, target, req.EventType or "test")
    return delivery_test_result(outcome)


# --- ReplayEvents ---------------------------------------------------------------------------------------


class ReplayEvents(Message, kw_only=True):
    ID: Id
    From: dt.datetime | None = None
    To: dt.datetime | None = None


class ReplayEventsResponse(Message, kw_only=True):
    ID: int


@ops.operation(staff("EventExportConfiguration", Scope.MANAGE), writes=True)
async def replay_events(ctx: Context, req: ReplayEvents) -> ReplayEventsResponse:
    start = req.From or dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    end = req.To or dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    if start.tzinfo is None or end.tzinfo is None:
        start, end = start.replace(tzinfo=start.tzinfo or dt.UTC), end.replace(tzinfo=end.tzinfo or dt.UTC)
    if end <= start:
        raise ValidationFailed("To must be later than From", code="EventExportConfiguration:InvalidRange")
    if await ctx.conn.fetchval(SQL["count_replay"], start, end, MAX_REPLAY_EVENTS) > MAX_REPLAY_EVENTS:
        raise ValidationFailed(
            f"More than {MAX_REPLAY_EVENTS} events in that range: replay it in smaller ranges",
            code="EventExportConfiguration:ReplayRangeTooLarge",
        )
    row = await ctx.conn.fetchrow(*SQL.bound("replay_events", id=req.ID, start=start, end=end, limit=MAX_REPLAY_EVENTS))
    if row["id"] is None:
        raise EventExportConfigurationNotFound()
    return ReplayEventsResponse(ID=row["id"])
