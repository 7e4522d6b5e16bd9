"""Ping: validates the caller's token (any authenticated user; an anonymous Ping is refused)."""

from __future__ import annotations

from evacase.context import Context
from evacase.messages import EmptyResponse, Message
from evacase.registry import Access, OperationSet

ops = OperationSet()


class Ping(Message):
    pass


@ops.operation(Access(), writes=False)
async def ping(ctx: Context, req: Ping) -> EmptyResponse:
    return EmptyResponse()
