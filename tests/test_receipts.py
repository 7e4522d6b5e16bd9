"""The case receipt (issue 14): PrintCaseReceipt hands the PDF to the configured print command, GetCaseReceipt
returns it as a blob; it holds the case and its public conversation, never private notes."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import asyncpg
from pypdf import PdfReader

from evacase.auth import UserType
from evacase.domain.receipts import ReceiptCase, ReceiptMessage, render_receipt
from tests.conftest import make_settings, serving
from tests.helpers import Api, customer, token

AGENT = token(400, UserType.EMPLOYEE, ["Cases:Manage"], "Sam", "Agent")
ALICE = customer(401, "Alice", "Jansen")


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def a_conversation(api: Api) -> int:
    body = {"Title": "Crooked stitching", "Description": "Every letter of the logo is crooked.", "TopicID": 1}
    case_id: int = (await api.ok("CustomerCreateCase", body, ALICE))["ID"]
    await api.ok("CustomerCreateCaseInteraction", {"CaseID": case_id, "Text": "Can I get a new one?"}, ALICE)
    reply = {"CaseID": case_id, "InteractionType": 0, "Text": "A replacement is on its way."}
    await api.ok("CreateCaseInteraction", reply, AGENT)
    note = {"CaseID": case_id, "InteractionType": 1, "Text": "Supplier batch 42 is faulty - internal"}
    await api.ok("CreateCaseInteraction", note, AGENT)
    return case_id


async def test_print_case_receipt_sends_the_case_and_its_public_conversation(db_dsn: str, tmp_path: Path) -> None:
    printed = tmp_path / "printed.pdf"
    async with serving(make_settings(db_dsn, print_command=f"tee {printed}")) as api:
        case_id = await a_conversation(api)
        assert await api.ok("PrintCaseReceipt", {"CaseID": case_id}, AGENT) == {}
    pdf = printed.read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for shown in (
        "Crooked stitching",
        f"{case_id}",
        "Alice Jansen",
        "Every letter of the logo is crooked.",
        "Can I get a new one?",
        "A replacement is on its way.",
        "Message from Sam Agent",
        "New",
        "Low",
    ):
        assert shown in text, shown
    for hidden in ("Supplier batch 42", "Case created with priority"):  # a private note, a ledger line
        assert hidden not in text, hidden


async def test_print_targets_default_per_station_missing_and_failing(db_dsn: str, tmp_path: Path) -> None:
    station = tmp_path / "station7.pdf"
    settings = make_settings(db_dsn, print_command="false", print_stations=((7, f"tee {station}"),))
    async with serving(settings) as api:
        case_id = await a_conversation(api)
        await api.ok("PrintCaseReceipt", {"CaseID": case_id, "StationID": 7}, AGENT)
        assert station.read_bytes().startswith(b"%PDF-")
        err = await api.error("PrintCaseReceipt", {"CaseID": case_id}, AGENT, 502)
        assert (err["Code"], err["Type"]) == ("Print:PrintFailed", "BadGateway")
        err = await api.error("PrintCaseReceipt", {"CaseID": case_id + 1000}, AGENT, 404)
        assert err["Code"] == "Case:NotFound"
    async with serving(make_settings(db_dsn)) as api:
        err = await api.error("PrintCaseReceipt", {"CaseID": case_id}, AGENT, 400)
        assert err["Code"] == "Print:NoPrintTarget"


async def test_get_case_receipt_returns_the_pdf_as_a_temporary_blob(api: Api, db: asyncpg.Connection) -> None:
    case_id = await a_conversation(api)
    created = await api.ok("GetCaseReceipt", {"CaseID": case_id}, AGENT)
    r = await api.client.get(created["Url"])
    assert (r.status_code, r.headers["content-type"]) == (200, "application/pdf")
    assert "A replacement is on its way." in text_of(r.content)
    expires = await db.fetchval("SELECT expire_date IS NOT NULL FROM blobs WHERE id = $1::uuid", created["Guid"])
    assert expires  # temporary: purged a day later unless attached


def test_a_receipt_shows_user_text_literally_and_says_what_it_left_out() -> None:
    case = ReceiptCase(
        1, "Ärger <b>&</b> 😀 Größe", None, None, None, "New", 9, dt.datetime(2026, 1, 2, tzinfo=dt.UTC), None
    )
    messages = [ReceiptMessage(0, None, dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC), "line one\nline <i>two</i>")]
    text = text_of(render_receipt(case, messages, omitted=3))
    assert "Ärger <b>&</b>" in text and "Größe" in text and "line <i>two</i>" in text
    assert "Critical" in text and "(3 earlier messages not shown)" in text and "2026-01-02 10:00 UTC" in text
