"""ValidateToken and GetCurrentUser: the token helpers EVA's SDKs call (EVA's contract; no functionality needed).

ValidateToken answers `{}` for a valid token and the 401 of any other service otherwise (saying why). GetCurrentUser
answers the caller as evacase knows it — from the token and the users table — and `{}` without a token; the many
fields of EVA's user that evacase does not hold (addresses, preferences, login data) are absent."""

from __future__ import annotations

from evacase.auth import ANONYMOUS
from evacase.context import Context
from evacase.domain.users import current_user
from evacase.messages import EmptyResponse, Message, full_name, iso_ms
from evacase.registry import Access, OperationSet

ops = OperationSet()


class ValidateToken(Message):
    pass


@ops.operation(Access(), writes=False)
async def validate_token(ctx: Context, req: ValidateToken) -> EmptyResponse:
    return EmptyResponse()


class GetCurrentUser(Message):
    pass


class CurrentUser(Message, kw_only=True):
    ID: int
    Type: int  # EVA's UserTypes
    FirstName: str | None = None
    LastName: str | None = None
    FullName: str | None = None
    EmailAddress: str | None = None
    EmailAddressVerified: bool
    PhoneNumber: str | None = None
    BackendID: str | None = None
    CustomID: str | None = None
    OrganizationUnitIDs: list[int] | None = None
    CreationTime: str


class GetCurrentUserResponse(Message, kw_only=True):
    User: CurrentUser | None = None


@ops.operation(Access(anonymous=True), writes=False)
async def get_current_user(ctx: Context, req: GetCurrentUser) -> GetCurrentUserResponse:
    if ctx.caller is ANONYMOUS:
        return GetCurrentUserResponse()
    row = await current_user(ctx.conn, ctx.caller.user_id)
    if row is None:  # recorded before any handler runs; a user removed meanwhile is nobody
        return GetCurrentUserResponse()
    units = ctx.caller.organization_units
    return GetCurrentUserResponse(
        User=CurrentUser(
            ID=row["id"],
            Type=row["user_type"],
            FirstName=row["first_name"],
            LastName=row["last_name"],
            FullName=full_name(row["first_name"], row["last_name"]),
            EmailAddress=row["email_address"],
            EmailAddressVerified=row["email_verified"],
            PhoneNumber=row["phone_number"],
            BackendID=row["backend_id"],
            CustomID=row["custom_id"],
            OrganizationUnitIDs=list(units) if units is not None else None,
            CreationTime=iso_ms(row["creation_time"]),
        )
    )
