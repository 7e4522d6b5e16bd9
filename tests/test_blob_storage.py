"""Attachments that exist (issue 14): StoreBlob, CreateBlob and the upload to its Url, GetBlobInfo, DeleteBlob, the
download with its headers, the limits, and who may attach what. Run against every store (PostgreSQL, a
directory)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from evacase.domain.blob_stores import CHUNK_BYTES, DirectoryStore, PostgresStore
from evacase.jobs.periodic import run_once
from evacase.jobs.purges import blob_purge
from tests.conftest import make_settings, serving
from tests.dbstate import ledger
from tests.helpers import Api, customer, employee

ALICE, BOB = 301, 302
AGENT = employee(300, ["Cases:Manage"])
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + b"x" * 5000 + b"\n%%EOF\n"
BASE = "http://evacase.test"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A local S3-compatible server (moto's, in a thread) for the whole session, with a bucket `evacase`; the
    AWS_* variables boto3 reads point at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in S3_ENV}
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
        }
    )
    import boto3

    boto3.session.Session().client("s3").create_bucket(Bucket="evacase")
    try:
        yield endpoint
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


S3_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")


@pytest.fixture(params=["postgresql", "file", "s3"])
async def blob_api(request: pytest.FixtureRequest, db_dsn: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app with each blob store, and small limits so that the limits can be tested."""
    if request.param == "s3":
        request.getfixturevalue("s3_server")
        store = f"s3://evacase/{tmp_path.name}"
    else:
        store = "postgresql" if request.param == "postgresql" else f"file://{tmp_path / 'blobs'}"
    async with serving(make_settings(db_dsn, blob_store=store, blob_max_bytes=64 * 1024)) as api:
        yield api


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def store(api: Api, token: str, data: bytes = PNG, mime: str = "image/png", **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = await api.ok("StoreBlob", {"Data": b64(data), "MimeType": mime, **fields}, token)
    return created


async def new_case(api: Api, who: int) -> int:
    body = {"Title": "Crooked stitching", "Description": "See the photo.", "TopicID": 1}
    case_id: int = (await api.ok("CustomerCreateCase", body, customer(who)))["ID"]
    return case_id


async def test_the_storefront_flow_store_attach_show_fetch(blob_api: Api, db: asyncpg.Connection) -> None:
    api = blob_api
    created = await store(api, customer(ALICE), OriginalName="stitching.png", Category="CasePhotos")
    guid = created["Guid"]
    assert uuid.UUID(guid).version == 4 and created == {"Guid": guid, "Url": f"{BASE}/blob/{guid}"}
    case_id = await new_case(api, ALICE)
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": guid}, customer(ALICE))
    view = await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    assert view["BlobIDs"] == [guid]
    r = await api.client.get(created["Url"])
    assert (r.status_code, r.content, r.headers["content-type"]) == (200, PNG, "image/png")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    assert r.headers["content-disposition"] == "inline; filename=\"stitching.png\"; filename*=UTF-8''stitching.png"
    assert r.headers["etag"] == f'"{hashlib.sha256(PNG).hexdigest()}"' and "expires" in r.headers
    info = await api.ok("GetBlobInfo", {"Guid": guid}, None)  # no token needed
    assert info.pop("LastModificationTimeUtc").endswith("Z")
    assert info == {
        "Guid": guid,
        "Category": "CasePhotos",
        "OriginalName": "stitching.png",
        "MimeType": "image/png",
        "Size": len(PNG),
        "Url": created["Url"],
    }
    by_name = await api.ok("GetBlobInfo", {"Category": "CasePhotos", "OriginalName": "stitching.png"}, None)
    assert by_name["Guid"] == guid
    listed = await api.ok("ListBlobsForCase", {"CaseID": case_id}, AGENT)
    assert {k: v for k, v in listed["Result"][0].items() if k != "CreationTime"} == {
        "BlobID": guid,
        "Name": "stitching.png",
        "MimeType": "image/png",
        "Url": created["Url"],
    }
    assert (await ledger(db, case_id))[-1] == f"Blob `{guid}` added to the case"


async def test_create_blob_then_upload_raw_and_multipart_then_attach_by_url(blob_api: Api) -> None:
    api = blob_api
    raw = await api.ok("CreateBlob", {"MimeType": "application/pdf", "OriginalName": "label.pdf"}, AGENT)
    headers = {"Authorization": f"Bearer {AGENT}", "Content-Type": "application/pdf"}
    r = await api.client.post(raw["Url"], content=PDF, headers=headers)
    assert (r.status_code, r.json()) == (200, {"Guid": raw["Guid"], "Url": raw["Url"], "Size": len(PDF)})
    again = await api.client.post(raw["Url"], content=PDF, headers=headers)
    assert (again.status_code, again.json()["Error"]["Code"]) == (409, "Blob:AlreadyUploaded")
    form = await api.ok("CreateBlob", {"MimeType": "image/png"}, customer(ALICE))
    auth = {"Authorization": f"Bearer {customer(ALICE)}"}
    r = await api.client.post(form["Url"], files={"file": ("photo.png", PNG, "image/png")}, headers=auth)
    assert r.status_code == 200, r.text
    fetched = await api.client.get(form["Url"])
    assert (fetched.content, fetched.headers["content-disposition"]) == (PNG, "inline")
    case_id = await new_case(api, ALICE)
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobUrls": [form["Url"]]}, customer(ALICE))
    agent_case = await api.ok("AttachBlobToCase", {"CaseID": case_id, "BlobUrls": [raw["Url"]]}, AGENT)
    assert agent_case == {}
    pdf = await api.client.get(raw["Url"])
    assert pdf.content == PDF and pdf.headers["content-disposition"].startswith("inline; filename=")


async def test_two_simultaneous_uploads_to_one_blob_store_one_and_refuse_the_other(blob_api: Api) -> None:
    api = blob_api
    placeholder = await api.ok("CreateBlob", {"MimeType": "application/pdf"}, AGENT)
    headers = {"Authorization": f"Bearer {AGENT}"}
    first, second = PDF, PDF.replace(b"x", b"y")
    answers = await asyncio.gather(
        api.client.post(placeholder["Url"], content=first, headers=headers),
        api.client.post(placeholder["Url"], content=second, headers=headers),
    )
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    (loser,) = [r for r in answers if r.status_code == 409]
    assert loser.json()["Error"]["Code"] == "Blob:AlreadyUploaded"
    winner = first if answers[0].status_code == 200 else second
    stored = await api.client.get(placeholder["Url"])
    assert stored.content == winner and stored.headers["etag"] == f'"{hashlib.sha256(winner).hexdigest()}"'


async def test_ranges_conditional_requests_and_head(blob_api: Api) -> None:
    api = blob_api
    url = (await store(api, AGENT, PDF, "application/pdf"))["Url"]
    full = await api.client.get(url)
    etag = full.headers["etag"]
    assert (await api.client.get(url, headers={"If-None-Match": etag})).status_code == 304
    part = await api.client.get(url, headers={"Range": "bytes=5-14"})
    assert (part.status_code, part.content, part.headers["content-range"]) == (206, PDF[5:15], f"bytes 5-14/{len(PDF)}")
    tail = await api.client.get(url, headers={"Range": "bytes=-7"})
    assert (tail.status_code, tail.content) == (206, PDF[-7:])
    beyond = await api.client.get(url, headers={"Range": f"bytes={len(PDF)}-"})
    assert (beyond.status_code, beyond.headers["content-range"]) == (416, f"bytes */{len(PDF)}")
    stale = await api.client.get(url, headers={"Range": "bytes=0-3", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, PDF)
    head = await api.client.head(url)
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(PDF)))


async def test_a_large_blob_crosses_chunks_and_ranges_read_across_them(
    db_dsn: str, tmp_path: Path, s3_server: str
) -> None:
    data = b"%PDF-" + bytes(i % 251 for i in range(3 * CHUNK_BYTES + 1234))
    for spec in ("postgresql", f"file://{tmp_path}", "s3://evacase/large"):
        async with serving(make_settings(db_dsn, blob_store=spec)) as api:
            url = (await store(api, AGENT, data, "application/pdf"))["Url"]
            assert (await api.client.get(url)).content == data
            start, end = CHUNK_BYTES - 10, 2 * CHUNK_BYTES + 10
            r = await api.client.get(url, headers={"Range": f"bytes={start}-{end - 1}"})
            assert r.content == data[start:end]


async def test_limits_size_types_and_signatures(blob_api: Api, db: asyncpg.Connection) -> None:
    api = blob_api
    before = await db.fetchval("SELECT count(*) FROM blobs")
    too_big = b"%PDF-" + b"x" * (64 * 1024)
    err = await api.error("StoreBlob", {"Data": b64(too_big), "MimeType": "application/pdf"}, AGENT, 413)
    assert (err["Code"], err["Data"]) == ("Blob:TooLarge", {"MaxBytes": 64 * 1024})
    err = await api.error("StoreBlob", {"Data": b64(b"<html>hi</html>"), "MimeType": "text/html"}, AGENT, 400)
    assert err["Code"] == "Blob:MimeTypeNotAllowed" and err["Data"]["MimeType"] == "text/html"
    err = await api.error("StoreBlob", {"Data": b64(b"<html><script>x</script>"), "MimeType": "image/png"}, AGENT, 400)
    assert err["Code"] == "Blob:ContentDoesNotMatchMimeType"
    sneaky = b"  <script>alert(1)</script>"
    err = await api.error("StoreBlob", {"Data": b64(sneaky), "MimeType": "text/plain"}, AGENT, 400)
    assert err["Code"] == "Blob:ContentDoesNotMatchMimeType"
    err = await api.error("StoreBlob", {"Data": "not base64!", "MimeType": "text/plain"}, AGENT, 400)
    assert err["Data"] == {"Field": "Data"}
    assert await db.fetchval("SELECT count(*) FROM blobs") == before
    placeholder = await api.ok("CreateBlob", {"MimeType": "application/pdf"}, AGENT)
    r = await api.client.post(placeholder["Url"], content=too_big, headers={"Authorization": f"Bearer {AGENT}"})
    assert (r.status_code, r.json()["Error"]["Code"]) == (413, "Blob:TooLarge")
    text = await store(api, AGENT, b"Totals: 12,34\n", "text/plain; charset=utf-8")
    served = await api.client.get(text["Url"])
    assert served.headers["content-type"].startswith("text/plain")
    assert served.headers["content-disposition"] == "attachment"  # never shown inline
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_who_may_attach_upload_and_delete(blob_api: Api, db: asyncpg.Connection) -> None:
    api = blob_api
    alices = (await store(api, customer(ALICE)))["Guid"]
    bobs_case = await new_case(api, BOB)
    err = await api.error("CustomerAddBlobToCase", {"CaseID": bobs_case, "BlobID": alices}, customer(BOB), 403)
    assert (err["Code"], err["Data"]) == ("Blob:NotYours", {"BlobID": alices})
    unknown = str(uuid.uuid4())
    err = await api.error("CustomerAddBlobToCase", {"CaseID": bobs_case, "BlobID": unknown}, customer(BOB), 404)
    assert err["Code"] == "Blob:NotFound"
    foreign = f"https://elsewhere.example/blob/{alices}"
    err = await api.error("CustomerAddBlobToCase", {"CaseID": bobs_case, "BlobUrls": [foreign]}, customer(BOB), 400)
    assert err["Code"] == "Blob:InvalidBlobUrl"
    await api.ok("AttachBlobToCase", {"CaseID": bobs_case, "BlobID": alices}, AGENT)  # staff attach any blob
    # Once on Bob's case, Bob may attach it to his own message there.
    message = await api.ok("CustomerCreateCaseInteraction", {"CaseID": bobs_case, "Text": "See"}, customer(BOB))
    await api.ok("CustomerAddBlobToCaseInteraction", {"InteractionID": message["ID"], "BlobID": alices}, customer(BOB))
    err = await api.error("DeleteBlob", {"BlobID": alices}, customer(ALICE), 403)
    placeholder = await api.ok("CreateBlob", {"MimeType": "image/png"}, customer(ALICE))
    r = await api.client.post(placeholder["Url"], content=PNG, headers={"Authorization": f"Bearer {customer(BOB)}"})
    assert (r.status_code, r.json()["Error"]["Type"]) == (403, "Forbidden")
    r = await api.client.post(placeholder["Url"], content=PNG)
    assert r.status_code == 401
    err = await api.error("AttachBlobToCase", {"CaseID": bobs_case, "BlobID": placeholder["Guid"]}, AGENT, 409)
    assert err["Code"] == "Blob:NotUploaded"


async def test_delete_refuses_an_attached_blob_unless_told_to_detach_it_everywhere(
    blob_api: Api, db: asyncpg.Connection
) -> None:
    api = blob_api
    created = await store(api, customer(ALICE))
    guid = created["Guid"]
    case_id = await new_case(api, ALICE)
    await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": guid}, customer(ALICE))
    err = await api.error("DeleteBlob", {"BlobID": guid}, AGENT, 409)
    assert (err["Code"], err["Data"]) == ("Blob:IsAttached", {"CaseIDs": [case_id]})
    await api.ok("DeleteBlob", {"BlobUrl": created["Url"], "DetachEverywhere": True}, AGENT)
    assert (await ledger(db, case_id))[-1] == f"Blob `{guid}` removed from the case"
    assert "BlobIDs" not in await api.ok("CustomerGetCaseByID", {"ID": case_id}, customer(ALICE))
    assert (await api.client.get(created["Url"])).status_code == 404
    assert await db.fetchval("SELECT count(*) FROM blobs WHERE id = $1", uuid.UUID(guid)) == 0
    assert await db.fetchval("SELECT count(*) FROM blob_chunks WHERE blob_id = $1", uuid.UUID(guid)) == 0
    err = await api.error("DeleteBlob", {"BlobID": guid}, AGENT, 404)
    assert err["Code"] == "Blob:NotFound"
    unattached = (await store(api, AGENT))["Guid"]
    await api.ok("DeleteBlob", {"BlobID": unattached}, AGENT)
    assert (await api.client.get(f"{BASE}/blob/{unattached}")).status_code == 404


async def test_a_blob_url_uses_the_configured_public_url(db_dsn: str) -> None:
    settings = make_settings(db_dsn, public_url="https://cases.shop.example/")
    async with serving(settings) as api:
        created = await store(api, AGENT)
        assert created["Url"] == f"https://cases.shop.example/blob/{created['Guid']}"
        case_id = await new_case(api, ALICE)
        await api.ok("AttachBlobToCase", {"CaseID": case_id, "BlobUrls": [created["Url"]]}, AGENT)
        own_origin = f"{BASE}/blob/{created['Guid']}"
        err = await api.error("AttachBlobToCase", {"CaseID": case_id, "BlobUrls": [own_origin]}, AGENT, 400)
        assert err["Code"] == "Blob:InvalidBlobUrl"


async def test_signed_downloads_need_an_unexpired_signature(db_dsn: str) -> None:
    async with serving(make_settings(db_dsn, blob_downloads="signed", blob_url_seconds=600)) as api:
        created = await store(api, customer(ALICE), OriginalName="photo.png")
        signed, plain = created["Url"], f"{BASE}/blob/{created['Guid']}"
        assert signed.startswith(plain + "?expires=") and "&signature=" in signed
        assert (await api.client.get(signed)).content == PNG
        for refused in (plain, signed.replace("signature=", "signature=0"), signed.replace("expires=", "expires=1")):
            r = await api.client.get(refused)
            assert (r.status_code, r.json()["Error"]["Type"]) == (403, "Forbidden"), refused
        guid = uuid.UUID(created["Guid"])
        expired = signed.split("?")[0] + "?expires=1000&signature=" + api_signature(api, guid, 1000)
        assert (await api.client.get(expired)).status_code == 403  # a valid signature, long expired
        case_id = await new_case(api, ALICE)
        await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobUrls": [signed]}, customer(ALICE))
        listed = await api.ok("ListBlobsForCase", {"CaseID": case_id}, AGENT)
        assert (await api.client.get(listed["Result"][0]["Url"])).content == PNG
        view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
        assert (await api.client.get(view["Blobs"][0]["Url"])).content == PNG
        # Knowing the GUID without a token gets its info, not a download.
        assert (await api.ok("GetBlobInfo", {"Guid": created["Guid"]}, None))["Url"] == plain


def api_signature(api: Api, guid: uuid.UUID, expires: int) -> str:
    """The signature the app's own signer gives (the runtime's, read through the app's state)."""
    transport = api.client._transport  # httpx's ASGITransport over the app
    signer = transport.app.state.runtime.blobs.signer  # type: ignore[attr-defined]
    signature: str = signer.signature(guid, expires)
    return signature


async def test_a_directory_store_writes_one_file_per_blob_and_removes_it(db_dsn: str, tmp_path: Path) -> None:
    async with serving(make_settings(db_dsn, blob_store=f"file://{tmp_path}")) as api:
        guid = (await store(api, AGENT))["Guid"]
        path = tmp_path / uuid.UUID(guid).hex[:2] / guid
        assert path.read_bytes() == PNG and not list(path.parent.glob(".*partial"))
        await api.ok("DeleteBlob", {"BlobID": guid}, AGENT)
        assert not path.exists()


async def test_a_reference_attached_before_blobs_were_stored_still_has_its_info(
    api: Api, db: asyncpg.Connection
) -> None:
    case_id = await new_case(api, ALICE)
    legacy = "b832ece7-93ea-4c5e-ad64-11402201315d"
    url = f"https://assets.shop.example/blobs/{legacy}/photo.jpg"
    await db.execute(
        "INSERT INTO case_blobs (case_id, blob_id, url, creation_time) VALUES ($1, $2, $3, '2024-05-01T10:00:00Z')",
        case_id,
        uuid.UUID(legacy),
        url,
    )
    info = await api.ok("GetBlobInfo", {"Guid": legacy}, None)
    assert info == {
        "Guid": legacy,
        "MimeType": "application/octet-stream",
        "LastModificationTimeUtc": "2024-05-01T10:00:00.000Z",
        "Url": url,
    }
    view = await api.ok("GetCaseByID", {"ID": case_id}, AGENT)
    assert view["Blobs"] == [{"ID": legacy, "Url": url}]
    await api.ok("DeleteCaseBlob", {"CaseID": case_id, "BlobUrl": url}, AGENT)  # removable as before
    assert "Blobs" not in await api.ok("GetCaseByID", {"ID": case_id}, AGENT)


async def test_unknown_or_malformed_blob_urls_are_eva_404s(api: Api) -> None:
    for path in (f"/blob/{uuid.uuid4()}", "/blob/not-a-guid"):
        r = await api.client.get(path)
        assert (r.status_code, r.json()["Error"]["Code"]) == (404, "Blob:NotFound")
    r = await api.client.post(f"/blob/{uuid.uuid4()}", content=PNG, headers={"Authorization": f"Bearer {AGENT}"})
    assert (r.status_code, r.json()["Error"]["Code"]) == (404, "Blob:NotFound")


# --- expiry ---------------------------------------------------------------------------------------------


async def test_expired_blobs_nothing_holds_are_purged_attached_ones_stay(db: asyncpg.Connection, db_dsn: str) -> None:
    async with serving(make_settings(db_dsn)) as api:
        expired = (await store(api, AGENT))["Guid"]  # temporary: no OriginalName
        attached = (await store(api, customer(ALICE)))["Guid"]
        kept = (await store(api, AGENT, OriginalName="kept.png"))["Guid"]  # named, no ExpireDate: kept
        case_id = await new_case(api, ALICE)
        await api.ok("CustomerAddBlobToCase", {"CaseID": case_id, "BlobID": attached}, customer(ALICE))
        past = await api.ok("StoreBlob", {"Data": b64(PNG), "MimeType": "image/png", "ExpireDate": "2020-01-01"}, AGENT)
        assert (await api.client.get(past["Url"])).status_code == 404  # past its ExpireDate: no longer served
        temporary = await db.fetchval("SELECT expire_date - creation_time FROM blobs WHERE id = $1", uuid.UUID(expired))
        assert temporary.total_seconds() == 1440 * 60  # Blobs:DefaultLifeTime's default
        await db.execute(
            "UPDATE blobs SET expire_date = now() - interval '1 minute' WHERE id = ANY ($1::uuid[])",
            [uuid.UUID(expired), uuid.UUID(attached)],
        )
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    try:
        assert await run_once(pool, blob_purge(PostgresStore(), 60)) == 2
        assert await run_once(pool, blob_purge(PostgresStore(), 60)) == 0  # idempotent
    finally:
        await pool.close()
    left = {str(r["id"]) for r in await db.fetch("SELECT id FROM blobs")}
    assert left == {attached, kept}
    assert await db.fetchval("SELECT count(DISTINCT blob_id) FROM blob_chunks") == 2


async def test_a_purge_interrupted_between_content_and_row_finishes_next_time(
    db: asyncpg.Connection, db_dsn: str, tmp_path: Path
) -> None:
    async with serving(make_settings(db_dsn, blob_store=f"file://{tmp_path}")) as api:
        guid = (await store(api, AGENT))["Guid"]
    path = tmp_path / uuid.UUID(guid).hex[:2] / guid
    # As a DeleteBlob (or a purge) leaves it when the process dies after marking the row: still a file.
    await db.execute("UPDATE blobs SET deleted_at = now() WHERE id = $1", uuid.UUID(guid))
    assert path.exists()
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    try:
        assert await run_once(pool, blob_purge(DirectoryStore(tmp_path), 60)) == 1
    finally:
        await pool.close()
    assert not path.exists()
    assert await db.fetchval("SELECT count(*) FROM blobs") == 0


@pytest.mark.parametrize("multipart", [False, True])
async def test_an_oversized_upload_is_refused_without_reading_the_rest(db_dsn: str, multipart: bool) -> None:
    # 10 GiB offered in 1 MiB pieces against a 64 KiB limit: the answer comes after the first piece or two, so
    # memory stays flat whatever a client sends.
    pulled = 0

    async def ten_gib() -> AsyncIterator[bytes]:
        nonlocal pulled
        boundary = b'--cut\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
        for n in range(10 * 1024):
            pulled += 1
            piece = b"%PDF-" + b"x" * (1024 * 1024 - 5)
            yield boundary + piece if multipart and n == 0 else piece

    async with serving(make_settings(db_dsn, blob_max_bytes=64 * 1024)) as api:
        placeholder = await api.ok("CreateBlob", {"MimeType": "application/pdf"}, AGENT)
        headers = {"Authorization": f"Bearer {AGENT}"}
        if multipart:
            headers["Content-Type"] = "multipart/form-data; boundary=cut"
        r = await api.client.post(placeholder["Url"], content=ten_gib(), headers=headers)
    assert (r.status_code, r.json()["Error"]["Code"]) == (413, "Blob:TooLarge")
    assert pulled <= 2
