"""What PushCase reads on every call and an admin rarely changes (the custom field definitions of cases, the push
settings), kept per process while the database's catalogue version is unchanged: triggers raise the version at
every committed change to `custom_fields` or `settings` (schema.sql, catalogue_version).

The version is read under the push's locks (lock_push); a catalogue loaded after that read is at least as new as
the version it is filed under, so a cached one is never older than the version that names it."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from evacase.domain.custom_fields import FieldDef, case_fields
from evacase.domain.push_settings import read_push_settings


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: int
    fields: dict[int, FieldDef]  # custom fields of cases by ID, in display order
    push_settings: dict[str, bool]


class CatalogueCache:
    """One process's catalogue (a Runtime holds one per database it serves)."""

    def __init__(self) -> None:
        self._current: Catalogue | None = None

    async def at(self, conn: asyncpg.Connection, version: int) -> Catalogue:
        """The catalogue of `version`: the cached one, or one read now on `conn` (in the caller's transaction)."""
        current = self._current
        if current is not None and current.version == version:
            return current
        current = Catalogue(version, await case_fields(conn), await read_push_settings(conn))
        self._current = current
        return current
