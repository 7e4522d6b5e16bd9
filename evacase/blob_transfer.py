"""A blob's Url: `GET`/`HEAD /blob/{Guid}` sends its content, `POST /blob/{Guid}` uploads the content of a blob
made with CreateBlob (the raw bytes as the body, or a multipart form with the file in the field `file`, else its
first file).

Downloads need no token (a blob's random GUID is its capability, as in EVA) and are sent so that no upload can
ever run script on evacase's origin: `X-Content-Type-Options: nosniff`, a sandboxing Content-Security-Policy, and
`Content-Disposition: attachment` for everything but images and PDF. `ETag`/`If-None-Match` and single `Range`
requests are answered. Uploads need a token: the blob's creator's, or staff's."""

from __future__ import annotations

import email.utils
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Literal
from urllib.parse import quote

import msgspec
import structlog
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive

from evacase.db import is_connection_failure, is_timeout, translate_db_error
from evacase.dispatch import database_unavailable
from evacase.domain.blob_types import INLINE, check_content
from evacase.domain.stored_blobs import (
    SQL,
    BlobSettings,
    Upload,
    gone,
    may_upload,
    spool,
    too_large,
    write_content,
)
from evacase.errors import (
    BlobAlreadyUploaded,
    BlobNotFound,
    EvaError,
    Forbidden,
    ServiceUnavailable,
    ValidationFailed,
    internal_error,
)
from evacase.runtime import Runtime

log = structlog.get_logger("evacase")

SANDBOX = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _error(exc: EvaError) -> Response:
    request_id = uuid.uuid4().hex
    headers = {"EVA-Request-ID": request_id}
    if isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = str(exc.retry_after)
    return Response(exc.body(request_id), exc.status, headers, "application/json")


def _guid(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["guid"])
    except ValueError:
        raise BlobNotFound("There is no such blob.") from None


def _fault(exc: Exception, event: str) -> EvaError:
    """What a failure below the HTTP layer answers: the database's own refusals as their EVA errors, a lost or slow
    database as 503 with Retry-After (as the message services answer), anything else as a logged 500."""
    translated = translate_db_error(exc)
    if translated is not None:
        return translated
    if is_connection_failure(exc) or is_timeout(exc):
        return database_unavailable(exc)
    log.exception(event)
    return internal_error()


def _http_date(seconds: float) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


def _disposition(mime_type: str, name: str | None) -> str:
    kind = "inline" if mime_type in INLINE else "attachment"
    if not name:
        return kind
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def byte_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """The one range `Range` asks for, as (start, end exclusive); None for the whole content (no header, several
    ranges, or a unit other than bytes); False when it cannot be satisfied."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last `last` bytes
        suffix = int(last)
        return (max(size - suffix, 0), size) if suffix and size else False
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or (last and int(last) < start):
        return False
    return start, end


async def download(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    try:
        guid = _guid(request)
        signer = rt.blobs.signer
        if signer is not None and not signer.valid(
            guid, request.query_params.get("expires"), request.query_params.get("signature")
        ):
            raise Forbidden("This blob URL is not signed, or its signature has expired: ask for its Url again.")
        async with rt.pool.acquire(timeout=rt.db_timeout) as conn:
            row = await conn.fetchrow(SQL["get_blob"], guid)
        if row is None or row["size"] is None or gone(row):
            raise BlobNotFound("There is no such blob.")
    except EvaError as exc:
        return _error(exc)
    except Exception as exc:
        return _error(_fault(exc, "blob_download_failed"))
    size, mime_type = row["size"], row["mime_type"]
    etag = f'"{row["sha256"].hex()}"'
    expires = row["expire_date"].timestamp() if row["expire_date"] is not None else time.time() + 86400
    headers = {
        "ETag": etag,
        "Last-Modified": _http_date(row["last_modification_time"].timestamp()),
        "Expires": _http_date(expires),
        "Cache-Control": "private, max-age=3600",
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX,
        "Content-Disposition": _disposition(mime_type, row["original_name"]),
    }
    wanted = request.headers.get("if-none-match")
    if wanted is not None and (wanted.strip() == "*" or etag in [t.strip() for t in wanted.split(",")]):
        return Response(status_code=304, headers=headers)
    span = byte_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        span = None
    if span is False:
        return Response(status_code=416, headers=headers | {"Content-Range": f"bytes */{size}"})
    status, (start, end) = (200, (0, size)) if span is None else (206, span)
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD" or end == start:
        return Response(status_code=status, headers=headers, media_type=mime_type)
    body = rt.blobs.store.read(rt.pool, guid, start, end)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=mime_type)


async def upload(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    settings: BlobSettings = rt.blobs
    received: Upload | None = None
    try:
        guid = _guid(request)
        caller = rt.verifier.verify(request.headers.get("authorization"))
        async with rt.pool.acquire(timeout=rt.db_timeout) as conn:
            row = await conn.fetchrow(SQL["get_blob"], guid)
        if row is None:
            raise BlobNotFound("There is no such blob: create it with CreateBlob first.")
        if not may_upload(caller, row):
            raise Forbidden("Only the user who created this blob (or staff) may upload its content.")
        if row["size"] is not None:
            raise BlobAlreadyUploaded()
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_bytes + 64 * 1024:
            raise too_large(settings.max_bytes)
        received = await _receive(request, settings.max_bytes)
        check_content(row["mime_type"], received.head)
        async with rt.pool.acquire(timeout=rt.db_timeout) as conn, conn.transaction():
            await write_content(conn, settings.store, guid, received)
    except EvaError as exc:
        response = _error(exc)
        if exc.status == 413:
            response.headers["Connection"] = "close"  # the rest of the body is never read
        return response
    except Exception as exc:
        return _error(_fault(exc, "blob_upload_failed"))
    finally:
        if received is not None:
            received.file.close()
    base = settings.base_url(f"{request.url.scheme}://{request.headers.get('host', 'localhost')}")
    body = {"Guid": str(guid), "Url": settings.url(base, guid), "Size": received.size}
    return Response(msgspec.json.encode(body), 200, media_type="application/json")


async def _receive(request: Request, max_bytes: int) -> Upload:
    """The uploaded file: the raw body, or a multipart form's file (`file`, else the first)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return await spool(request.stream(), max_bytes)
    counted = _Counting(request.receive, max_bytes + 64 * 1024, max_bytes)
    form = await Request(request.scope, counted).form(max_files=1, max_fields=20)
    try:
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        chosen = form.get("file") if isinstance(form.get("file"), UploadFile) else (files[0] if files else None)
        if not isinstance(chosen, UploadFile):
            raise ValidationFailed("The multipart form holds no file (send it in the field `file`).")
        return await spool(_file_chunks(chosen), max_bytes)
    finally:
        await form.close()


async def _file_chunks(file: UploadFile) -> AsyncIterator[bytes]:
    await file.seek(0)
    while chunk := await file.read(256 * 1024):
        yield chunk


class _Counting:
    """A `receive` that refuses a body longer than `limit` bytes (413) while Starlette's form parser reads it."""

    def __init__(self, receive: Receive, limit: int, max_bytes: int) -> None:
        self.receive, self.limit, self.max_bytes, self.seen = receive, limit, max_bytes, 0

    async def __call__(self) -> Message:
        message = await self.receive()
        self.seen += len(message.get("body", b""))
        if self.seen > self.limit:
            raise too_large(self.max_bytes)
        return message
