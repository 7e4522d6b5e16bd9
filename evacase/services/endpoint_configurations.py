"""EVA's endpoint configurations: where event exports are sent (CreateEndpointConfiguration,
UpdateEndpointConfiguration, DeleteEndpointConfiguration, GetEndpointConfiguration, GetEndpointConfigurations,
RotateEndpointConfigurationKey, TestEndpointConfiguration). The signing keys are shown once, when created or
rotated; a Get shows them masked."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec

from evacase.auth import Scope
from evacase.context import Context
from evacase.db import load_queries
from evacase.domain.endpoints import UnsafeEndpoint, parse_endpoint, resolve_endpoint
from evacase.domain.event_exports import (
    MASK,
    ConfigurationRefused,
    ExportSettings,
    check_authorization,
    delivery_for,
    new_signing_key,
    seal_authorization,
    send_test_event,
    shown_authorization,
)
from evacase.domain.secrets import SecretUnavailable
from evacase.errors import EndpointConfigurationNotFound, ValidationFailed
from evacase.messages import EmptyResponse, Id, Message, iso_ms, or_current
from evacase.registry import OperationSet, staff
from evacase.services.wire import DeliveryTestResult, delivery_test_result, export_settings

ops = OperationSet()

SQL = load_queries("event_exports")

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
BackendID = Annotated[str, msgspec.Meta(max_length=255)]
Url = Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
Status = Annotated[int, msgspec.Meta(ge=1, le=3)]
Timeout = Annotated[int, msgspec.Meta(ge=1, le=60)]
Secret = Annotated[str, msgspec.Meta(max_length=4096)]


class ClientCertificate(Message, kw_only=True):
    Certificate: str
    Password: str | None = None


class EndpointAuthorization(Message, kw_only=True):
    BasicPassword: Secret | None = None
    BasicUsername: Secret | None = None
    ClientCertificate: ClientCertificate | None = None
    Headers: dict[str, str] | None = None
    StaticBearerToken: Secret | None = None
    StaticUnschemedToken: Secret | None = None


class EndpointConfigurationDto(Message, kw_only=True):
    ID: int
    Name: str
    BackendID: str | None = None
    Endpoint: str
    Status: int
    ErrorReason: str | None = None
    IgnoreNullValues: bool
    UseStringIDs: bool
    TimeoutInSeconds: int | None = None
    LastAccessTime: str | None = None
    Authorization: dict[str, Any] | None = None
    SecretKey1: str  # never shown after creation or rotation: masked
    SecretKey2: str


def refused(exc: Exception) -> ValidationFailed:
    return ValidationFailed(str(exc), code="EndpointConfiguration:Invalid")


async def checked_endpoint(settings: ExportSettings, url: str) -> None:
    try:
        await resolve_endpoint(parse_endpoint(url, settings.allow_insecure), settings.allow_insecure)
    except UnsafeEndpoint as exc:
        raise ValidationFailed(f"Endpoint: {exc}", code="EndpointConfiguration:InvalidEndpoint") from None


def auth_dict(auth: EndpointAuthorization | None) -> dict[str, Any] | None:
    if auth is None:
        return None
    value: dict[str, Any] = msgspec.to_builtins(auth)
    try:
        check_authorization(value)
    except ConfigurationRefused as exc:
        raise refused(exc) from None
    return value or None


def endpoint_dto(settings: ExportSettings, row: asyncpg.Record) -> EndpointConfigurationDto:
    auth = shown_authorization(settings.sealer, row["auth_config"])
    return EndpointConfigurationDto(
        ID=row["id"],
        Name=row["name"],
        BackendID=row["backend_id"],
        Endpoint=row["endpoint"],
        Status=row["status"],
        ErrorReason=row["error_reason"],
        IgnoreNullValues=row["ignore_null_values"],
        UseStringIDs=row["use_string_ids"],
        TimeoutInSeconds=row["timeout_seconds"],
        LastAccessTime=iso_ms(row["last_access_time"]),
        Authorization=auth,
        SecretKey1=MASK,
        SecretKey2=MASK,
    )


# --- CreateEndpointConfiguration ------------------------------------------------------------------------


class CreateEndpointConfiguration(Message, kw_only=True):
    Name: Name
    Endpoint: Url
    BackendID: BackendID | None = None
    Authorization: EndpointAuthorization | None = None
    IgnoreNullValues: bool | None = None
    Status: Status = 1
    TimeoutSeconds: Timeout | None = None
    UseStringIDs: bool = False


class CreateEndpointConfigurationResponse(Message, kw_only=True):
    ID: int
    SecretKey1: str
    SecretKey2: str


@ops.operation(staff("EndpointConfigurations", Scope.CREATE), writes=True, one_statement=True)
async def create_endpoint_configuration(
    ctx: Context, req: CreateEndpointConfiguration
) -> CreateEndpointConfigurationResponse:
    settings = export_settings(ctx)
    await checked_endpoint(settings, req.Endpoint)
    auth = auth_dict(req.Authorization)
    key1, key2 = new_signing_key(), new_signing_key()
    endpoint_id = await ctx.conn.fetchval(
        *SQL.bound(
            "create_endpoint",
            name=req.Name,
            backend_id=req.BackendID,
            endpoint=req.Endpoint,
            status=req.Status,
            ignore_null_values=req.IgnoreNullValues if req.IgnoreNullValues is not None else True,
            use_string_ids=req.UseStringIDs,
            timeout_seconds=req.TimeoutSeconds,
            auth_config=seal_authorization(settings.sealer, auth),
            secret_key1=settings.sealer.seal(key1),
            secret_key2=settings.sealer.seal(key2),
            created_by=ctx.caller.user_id,
        )
    )
    return CreateEndpointConfigurationResponse(ID=endpoint_id, SecretKey1=key1, SecretKey2=key2)


# --- UpdateEndpointConfiguration ------------------------------------------------------------------------


class UpdateEndpointConfiguration(Message, kw_only=True):
    ID: Id
    Name: Name | msgspec.UnsetType = msgspec.UNSET
    Endpoint: Url | msgspec.UnsetType = msgspec.UNSET
    BackendID: BackendID | msgspec.UnsetType | None = msgspec.UNSET
    Authorization: EndpointAuthorization | msgspec.UnsetType | None = msgspec.UNSET
    IgnoreNullValues: bool | msgspec.UnsetType = msgspec.UNSET
    Status: Status | msgspec.UnsetType = msgspec.UNSET
    TimeoutInSeconds: Timeout | msgspec.UnsetType | None = msgspec.UNSET
    UseStringIDs: bool | msgspec.UnsetType = msgspec.UNSET


@ops.operation(staff("EndpointConfigurations", Scope.EDIT), writes=True)
async def update_endpoint_configuration(ctx: Context, req: UpdateEndpointConfiguration) -> EmptyResponse:
    settings = export_settings(ctx)
    row = await ctx.conn.fetchrow(SQL["lock_endpoint"], req.ID)
    if row is None:
        raise EndpointConfigurationNotFound()
    if req.Endpoint is not msgspec.UNSET:
        await checked_endpoint(settings, req.Endpoint)
    auth_config = row["auth_config"]
    if req.Authorization is not msgspec.UNSET:
        auth_config = seal_authorization(settings.sealer, auth_dict(req.Authorization))
    await ctx.conn.execute(
        *SQL.bound(
            "update_endpoint",
            id=req.ID,
            name=or_current(req.Name, row["name"]),
            backend_id=or_current(req.BackendID, row["backend_id"]),
            endpoint=or_current(req.Endpoint, row["endpoint"]),
            status=or_current(req.Status, row["status"]),
            ignore_null_values=or_current(req.IgnoreNullValues, row["ignore_null_values"]),
            use_string_ids=or_current(req.UseStringIDs, row["use_string_ids"]),
            timeout_seconds=or_current(req.TimeoutInSeconds, row["timeout_seconds"]),
            auth_config=auth_config,
        )
    )
    return EmptyResponse()


# --- DeleteEndpointConfiguration ------------------------------------------------------------------------


class DeleteEndpointConfiguration(Message, kw_only=True):
    ID: Id


@ops.operation(staff("EndpointConfigurations", Scope.DELETE), writes=True, one_statement=True)
async def delete_endpoint_configuration(ctx: Context, req: DeleteEndpointConfiguration) -> EmptyResponse:
    if await ctx.conn.fetchval(SQL["delete_endpoint"], req.ID) is None:
        raise EndpointConfigurationNotFound()
    return EmptyResponse()


# --- GetEndpointConfiguration(s) ------------------------------------------------------------------------


class GetEndpointConfiguration(Message, kw_only=True):
    ID: Id


class GetEndpointConfigurationResponse(Message, kw_only=True):
    Result: EndpointConfigurationDto


@ops.operation(staff("EndpointConfigurations", Scope.VIEW), writes=False)
async def get_endpoint_configuration(ctx: Context, req: GetEndpointConfiguration) -> GetEndpointConfigurationResponse:
    row = await ctx.conn.fetchrow(SQL["get_endpoint"], req.ID)
    if row is None:
        raise EndpointConfigurationNotFound()
    return GetEndpointConfigurationResponse(Result=endpoint_dto(export_settings(ctx), row))


class GetEndpointConfigurations(Message, kw_only=True):
    pass


class GetEndpointConfigurationsResponse(Message, kw_only=True):
    Items: list[EndpointConfigurationDto]


@ops.operation(staff("EndpointConfigurations", Scope.VIEW), writes=False)
async def get_endpoint_configurations(
    ctx: Context, req: GetEndpointConfigurations
) -> GetEndpointConfigurationsResponse:
    rows = await ctx.conn.fetch(SQL["list_endpoints"])
    return GetEndpointConfigurationsResponse(Items=[endpoint_dto(export_settings(ctx), r) for r in rows])


# --- RotateEndpointConfigurationKey ---------------------------------------------------------------------


class RotateEndpointConfigurationKey(Message, kw_only=True):
    ID: Id
    KeyID: Annotated[int, msgspec.Meta(ge=1, le=2)]


class RotateEndpointConfigurationKeyResponse(Message, kw_only=True):
    SecretKey1: str | None = None
    SecretKey2: str | None = None


@ops.operation(staff("EndpointConfigurations", Scope.EDIT), writes=True, one_statement=True)
async def rotate_endpoint_configuration_key(
    ctx: Context, req: RotateEndpointConfigurationKey
) -> RotateEndpointConfigurationKeyResponse:
    key = new_signing_key()
    if (
        await ctx.conn.fetchval(SQL["rotate_endpoint_key"], req.ID, req.KeyID, export_settings(ctx).sealer.seal(key))
        is None
    ):
        raise EndpointConfigurationNotFound()
    if req.KeyID == 1:
        return RotateEndpointConfigurationKeyResponse(SecretKey1=key)
    return RotateEndpointConfigurationKeyResponse(SecretKey2=key)


# --- TestEndpointConfiguration --------------------------------------------------------------------------


class TestEndpointConfiguration(Message, kw_only=True):
    ID: Id


@ops.operation(staff("EndpointConfigurations", Scope.EDIT), writes=False)
async def test_endpoint_configuration(ctx: Context, req: TestEndpointConfiguration) -> DeliveryTestResult:
    settings = export_settings(ctx)
    row = await ctx.conn.fetchrow(SQL["get_endpoint"], req.ID)
    if row is None:
        raise EndpointConfigurationNotFound()
    try:
        delivery = delivery_for(settings, row)
    except SecretUnavailable as exc:
        raise ValidationFailed(f"The endpoint's secrets cannot be read: {exc}") from None
    outcome = await send_test_event(settings, delivery, "System", "test")
    return delivery_test_result(outcome)
