"""What a handler gets besides its request: the connection, the caller, and request-wide facilities."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from evacase.auth import Caller
from evacase.paging import PageTokens


@dataclass(slots=True)
class Context:
    conn: asyncpg.Connection
    caller: Caller
    request_id: str
    page_tokens: PageTokens
    backend_system_id: str | None = None
