"""What a handler gets besides its request: the connection, the caller, and request-wide facilities."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from evacase.auth import Caller
from evacase.db import Queries
from evacase.domain.catalogue import CatalogueCache
from evacase.domain.event_exports import ExportSettings
from evacase.domain.printing import PrintTargets
from evacase.domain.stored_blobs import BlobSettings
from evacase.paging import Page, PageRequest, PageTokens


@dataclass(slots=True)
class Context:
    conn: asyncpg.Connection
    caller: Caller
    request_id: str
    page_tokens: PageTokens
    backend_system_id: str | None = None
    catalogue: CatalogueCache = field(default_factory=CatalogueCache)
    blobs: BlobSettings | None = None
    origin: str = "http://localhost"  # the request's scheme and host, the base of blob URLs by default
    print_targets: PrintTargets = field(default_factory=PrintTargets)
    exports: ExportSettings | None = None

    @property
    def blob_settings(self) -> BlobSettings:
        assert self.blobs is not None, "a handler of blobs runs with the runtime's blob settings"
        return self.blobs

    @property
    def blob_base(self) -> str:
        """The base of this evacase's blob URLs (EVACASE_PUBLIC_URL, else the request's origin)."""
        return self.blob_settings.base_url(self.origin)

    def blob_url(self, guid: uuid.UUID) -> str:
        """Blob `guid`'s URL as handed out to this request's caller (signed in the signed-downloads mode)."""
        return self.blob_settings.url(self.blob_base, guid)

    async def fetch_page(
        self,
        queries: Queries,
        name: str,
        page_req: PageRequest,
        key_of: Callable[[asyncpg.Record], tuple[int, ...]],
        /,
        **values: Any,
    ) -> Page[asyncpg.Record]:
        """One page of a keyset list: the query `<name>_after` or `<name>_before` for the page's direction,
        called with `values` and `limit` the page size plus one (so the page knows whether a neighbour exists),
        shaped with its tokens."""
        query = f"{name}_after" if page_req.forward else f"{name}_before"
        rows = await self.conn.fetch(*queries.bound(query, **values, limit=page_req.limit + 1))
        return self.page_tokens.page(page_req, rows, key_of)
