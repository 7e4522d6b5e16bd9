"""The case receipt: a PDF (ReportLab) with the case's ID and title, customer, topic, status, priority, dates,
description and its public conversation (customer messages, agents' replies and e-mails; never private notes,
callbacks or ledger lines), for PrintCaseReceipt and GetCaseReceipt. Pure: rows in, bytes out."""

from __future__ import annotations

import datetime as dt
import functools
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

MAX_MESSAGES = 200  # the latest ones; a receipt is not an archive
PRIORITIES = {0: "Low", 1: "Medium", 2: "High", 9: "Critical"}
MESSAGE_KINDS = {0: "Message", 3: "E-mail"}


@functools.cache
def _fonts() -> None:
    """ReportLab's bundled Vera fonts, for Unicode text (the PDF core fonts stop at Latin-1). ReportLab is loaded
    at the first receipt, not at start-up (it adds ~8 MiB to a worker that never prints)."""
    import reportlab
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    pdfmetrics.registerFont(TTFont("Receipt", os.path.join(folder, "Vera.ttf")))
    pdfmetrics.registerFont(TTFont("Receipt-Bold", os.path.join(folder, "VeraBd.ttf")))


@dataclass(frozen=True, slots=True)
class ReceiptCase:
    id: int
    title: str
    description: str | None
    customer: str | None
    topic: str | None
    status: str
    priority: int
    reporting_time: dt.datetime
    closing_time: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ReceiptMessage:
    kind: int  # 0 Communication, 3 Email
    author: str | None
    time: dt.datetime
    text: str | None


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def _text(value: str | None) -> str:
    """User text as a Paragraph shows it literally: markup escaped, line breaks kept."""
    return escape(value or "").replace("\n", "<br/>")


def render_receipt(case: ReceiptCase, messages: Sequence[ReceiptMessage], omitted: int = 0) -> bytes:
    """The receipt's PDF; `omitted`: how many older messages did not fit (said on the receipt)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontName="Receipt", fontSize=10, leading=13)
    bold = ParagraphStyle("bold", parent=body, fontName="Receipt-Bold")
    title = ParagraphStyle("title", parent=bold, fontSize=16, leading=20, spaceAfter=6)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Case {case.id}",
        author="evacase",
    )
    facts = [
        ("Case", str(case.id)),
        ("Customer", case.customer or "-"),
        ("Topic", case.topic or "-"),
        ("Status", case.status),
        ("Priority", PRIORITIES.get(case.priority, str(case.priority))),
        ("Reported", _when(case.reporting_time)),
        ("Closed", _when(case.closing_time)),
    ]
    table = Table(
        [[Paragraph(k, bold), Paragraph(_text(v), body)] for k, v in facts], colWidths=[35 * mm, None], hAlign="LEFT"
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    story = [Paragraph(_text(case.title), title), table, Spacer(1, 6 * mm)]
    if case.description:
        story += [Paragraph("Description", bold), Paragraph(_text(case.description), body), Spacer(1, 4 * mm)]
    story.append(Paragraph("Conversation", bold))
    if omitted:
        story.append(Paragraph(f"({omitted} earlier messages not shown)", body))
    if not messages:
        story.append(Paragraph("No messages yet.", body))
    for m in messages:
        who = f"{MESSAGE_KINDS.get(m.kind, 'Message')} from {m.author or 'unknown'}, {_when(m.time)}"
        story += [Spacer(1, 2 * mm), Paragraph(_text(who), bold), Paragraph(_text(m.text), body)]
    doc.build(story)
    return out.getvalue()
