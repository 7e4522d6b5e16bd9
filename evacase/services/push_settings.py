"""PushCase's settings as services of evacase's own: GetPushCaseSettings and SetPushCaseSettings
(`PushCases:Settings`). `AutoCreateTopic`/`AutoCreateStatus` say whether a push may create a topic or status it
does not find (default true, as in the guide)."""

from __future__ import annotations

from evacase.auth import Scope
from evacase.context import Context
from evacase.domain.push_settings import read_push_settings, write_push_setting
from evacase.messages import EmptyRequest, EmptyResponse, Message
from evacase.registry import OperationSet, staff

ops = OperationSet()

FIELDS = {
    "AutoCreateTopic": "PushCases:AutoCreateTopic",
    "AutoCreateStatus": "PushCases:AutoCreateStatus",
    "MatchUnverifiedEmail": "PushCases:MatchUnverifiedEmail",
}


class GetPushCaseSettings(EmptyRequest):
    pass


class PushCaseSettings(Message, kw_only=True):
    AutoCreateTopic: bool
    AutoCreateStatus: bool
    MatchUnverifiedEmail: bool  # evacase's own


@ops.operation(staff("PushCases", Scope.SETTINGS), writes=False)
async def get_push_case_settings(ctx: Context, req: GetPushCaseSettings) -> PushCaseSettings:
    values = await read_push_settings(ctx.conn)
    return PushCaseSettings(**{field: values[name] for field, name in FIELDS.items()})


class SetPushCaseSettings(Message, kw_only=True):
    AutoCreateTopic: bool | None = None  # absent or null: unchanged
    AutoCreateStatus: bool | None = None
    MatchUnverifiedEmail: bool | None = None


@ops.operation(staff("PushCases", Scope.SETTINGS), writes=True)
async def set_push_case_settings(ctx: Context, req: SetPushCaseSettings) -> EmptyResponse:
    for field, name in FIELDS.items():
        value = getattr(req, field)
        if value is not None:
            await write_push_setting(ctx.conn, name, value, ctx.caller.user_id)
    return EmptyResponse()
