"""Tags on cases: what a tag is once normalised, and how many a case holds."""

from __future__ import annotations

import re
import unicodedata

from evacase.errors import ValidationFailed

MAX_TAG_LENGTH = 50
MAX_TAGS_PER_CASE = 50
# Letters, digits and marks of any script, and - _ . : / # between them; spaces become "-".
_ALLOWED = re.compile(r"[\w\-.:/#]+")
_SPACES = re.compile(r"\s+")


def normalized_tag(raw: str, field: str = "Tags") -> str:
    """A tag as stored and compared: NFKC, lower case, outer spaces trimmed, inner runs of spaces as one "-";
    1 to 50 characters of letters, digits and - _ . : / #. Anything else is a 400 naming `field`."""
    tag = _SPACES.sub("-", unicodedata.normalize("NFKC", raw).strip().lower())
    if not 1 <= len(tag) <= MAX_TAG_LENGTH or not _ALLOWED.fullmatch(tag):
        raise ValidationFailed(
            f"{field}: a tag is 1 to {MAX_TAG_LENGTH} letters, digits and - _ . : / # (spaces become -)."
        )
    return tag


def normalized_tags(raw: list[str]) -> list[str]:
    """Each tag normalised, duplicates dropped, in the order given."""
    return list(dict.fromkeys(normalized_tag(t) for t in raw))
