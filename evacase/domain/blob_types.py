"""Which files evacase keeps: a MIME type from the allow-list, and content whose own signature agrees with it (a
file that says `image/png` but holds HTML is refused), and how a download presents each type to a browser."""

from __future__ import annotations

from collections.abc import Callable

from evacase.errors import BlobContentDoesNotMatchMimeType, BlobMimeTypeNotAllowed

# How many leading bytes the checks look at (the signature; for text, enough to tell it is not markup).
SNIFF_BYTES = 4096

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the legacy Office container (doc, xls, ppt)
_ZIP = (b"PK\x03\x04",)  # the Office Open XML and OpenDocument container


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


# Markup a browser would sniff as HTML (the WHATWG sniffing patterns, lower case), refused in text files: a tag
# name followed by a space or `>`, or a comment, processing instruction or doctype.
_TAGS = (
    b"html",
    b"head",
    b"script",
    b"iframe",
    b"h1",
    b"div",
    b"font",
    b"table",
    b"a",
    b"style",
    b"title",
    b"b",
    b"body",
    b"br",
    b"p",
    b"svg",
    b"img",
    b"object",
    b"embed",
    b"form",
    b"meta",
    b"link",
)
_MARKUP_STARTS = (b"<!doctype", b"<!--", b"<?xml")


def _looks_like_markup(head: bytes) -> bool:
    start = head.lstrip(b" \t\r\n\x0c").removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x0c").lower()
    if start.startswith(_MARKUP_STARTS):
        return True
    if not start.startswith(b"<"):
        return False
    name = start[1:].split(b">", 1)[0].split(None, 1)[0] if len(start) > 1 else b""
    return name.rstrip(b"/") in _TAGS


def _text(head: bytes) -> bool:
    """Text: UTF-8 (a character cut at the end of the sniffed bytes is fine), no NUL, not markup."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:
            return False
    return not _looks_like_markup(head)


# MIME type -> the check its content must pass. The default allow-list: images, PDF, plain text and CSV, and the
# common office documents.
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "image/png": _starts(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": _starts(b"\xff\xd8\xff"),
    "image/gif": _starts(b"GIF87a", b"GIF89a"),
    "image/webp": _webp,
    "application/pdf": _starts(b"%PDF-"),
    "text/plain": _text,
    "text/csv": _text,
    "application/msword": _starts(_OLE),
    "application/vnd.ms-excel": _starts(_OLE),
    "application/vnd.ms-powerpoint": _starts(_OLE),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _starts(*_ZIP),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _starts(*_ZIP),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _starts(*_ZIP),
    "application/vnd.oasis.opendocument.text": _starts(*_ZIP),
    "application/vnd.oasis.opendocument.spreadsheet": _starts(*_ZIP),
}
DEFAULT_ALLOWED = tuple(SIGNATURES)

# Shown in the browser (Content-Disposition: inline); everything else downloads as an attachment.
INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


def normalized(mime_type: str) -> str:
    """`Image/PNG; charset=x` -> `image/png`."""
    return mime_type.split(";", 1)[0].strip().lower()


def check_mime_type(mime_type: str, allowed: frozenset[str]) -> str:
    """The normalized type, if the allow-list has it."""
    kind = normalized(mime_type)
    if kind not in allowed:
        raise BlobMimeTypeNotAllowed(
            f"Files of type `{kind}` are not accepted.", data={"MimeType": kind, "Allowed": sorted(allowed)}
        )
    return kind


def check_content(mime_type: str, head: bytes) -> None:
    """Refuse content whose first bytes do not match its (allowed, normalized) MIME type. A type without a known
    signature (added to the allow-list by configuration) is taken as it is, but is still served as a download."""
    check = SIGNATURES.get(mime_type)
    if check is not None and not check(head[:SNIFF_BYTES]):
        raise BlobContentDoesNotMatchMimeType(
            f"The content is not a valid `{mime_type}` file.", data={"MimeType": mime_type}
        )
