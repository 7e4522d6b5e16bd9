"""What a handler gets besides its request: the connection, the caller, and request-wide facilities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from evacase.auth import Caller
from evacase.paging import Page, PageRequest, PageTokens


@dataclass(slots=True)
class Context:
    conn: asyncpg.Connection
    caller: Caller
    request_id: str
    page_tokens: PageTokens
    backend_system_id: str | None = None

    async def fetch_page(
        self,
        queries: tuple[str, str],
        page_req: PageRequest,
        key_of: Callable[[asyncpg.Record], tuple[int, ...]],
        *args: Any,
    ) -> Page[asyncpg.Record]:
        """One page of a keyset list: the `(after, before)` query for the page's direction, called with `args`
        and the page size plus one (so the page knows whether a neighbour exists), shaped with its tokens."""
        rows = await self.conn.fetch(queries[0] if page_req.forward else queries[1], *args, page_req.limit + 1)
        return self.page_tokens.page(page_req, rows, key_of)
