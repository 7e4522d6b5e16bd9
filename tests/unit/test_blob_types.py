"""What a blob may hold, and which bytes a Range asks for: pure rules, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evacase.blob_transfer import byte_range
from evacase.domain.blob_types import DEFAULT_ALLOWED, check_content, check_mime_type
from evacase.errors import BlobContentDoesNotMatchMimeType, BlobMimeTypeNotAllowed

ALLOWED = frozenset(DEFAULT_ALLOWED)


def test_mime_types_are_normalized_and_checked_against_the_allow_list() -> None:
    assert check_mime_type("Image/PNG; charset=binary", ALLOWED) == "image/png"
    for refused in ("text/html", "image/svg+xml", "application/javascript", "application/octet-stream"):
        with pytest.raises(BlobMimeTypeNotAllowed):
            check_mime_type(refused, ALLOWED)


@pytest.mark.parametrize(
    ("mime", "content"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n...."),
        ("image/jpeg", b"\xff\xd8\xff\xe0...."),
        ("image/gif", b"GIF89a...."),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
        ("application/pdf", b"%PDF-1.4\n"),
        ("text/plain", "Größe: 42 — ok\n".encode()),
        ("text/csv", b"id,name\n1,<b>bold</b>\n"),  # markup inside text is fine; only a markup start is refused
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04...."),
        ("application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...."),
    ],
)
def test_content_with_its_types_signature_is_accepted(mime: str, content: bytes) -> None:
    check_content(mime, content)


@pytest.mark.parametrize(
    ("mime", "content"),
    [
        ("image/png", b"<html><script>alert(1)</script>"),
        ("image/jpeg", b"\x89PNG\r\n\x1a\n"),
        ("application/pdf", b"PK\x03\x04"),
        ("text/plain", b"<!DOCTYPE html><p>hi"),
        ("text/plain", b"\xef\xbb\xbf  <script>x</script>"),
        ("text/plain", b"<svg onload=alert(1)>"),
        ("text/plain", b"<?xml version='1.0'?>"),
        ("text/plain", b"binary\x00junk"),
        ("text/csv", b"\xff\xfe\xfd not utf-8 at all"),
    ],
)
def test_content_that_is_not_what_it_claims_is_refused(mime: str, content: bytes) -> None:
    with pytest.raises(BlobContentDoesNotMatchMimeType):
        check_content(mime, content)


@given(st.binary(max_size=64))
def test_text_never_accepts_a_nul_byte(data: bytes) -> None:
    if b"\x00" in data:
        with pytest.raises(BlobContentDoesNotMatchMimeType):
            check_content("text/plain", data)


@given(size=st.integers(0, 10_000), first=st.integers(0, 12_000), last=st.integers(0, 12_000))
def test_a_satisfiable_range_lies_within_the_content(size: int, first: int, last: int) -> None:
    for header in (f"bytes={first}-{last}", f"bytes={first}-", f"bytes=-{last}"):
        span = byte_range(header, size)
        if span is None or span is False:
            continue
        start, end = span
        assert 0 <= start < end <= size


def test_ranges_as_rfc_9110_reads_them() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=0-9", 100) == (0, 10)
    assert byte_range("bytes=90-", 100) == (90, 100)
    assert byte_range("bytes=-10", 100) == (90, 100)
    assert byte_range("bytes=-500", 100) == (0, 100)
    assert byte_range("bytes=50-5000", 100) == (50, 100)
    assert byte_range("bytes=100-", 100) is False
    assert byte_range("bytes=9-0", 100) is False
    assert byte_range("bytes=0-1,5-6", 100) is None  # several ranges: the whole content
    assert byte_range("items=0-1", 100) is None
