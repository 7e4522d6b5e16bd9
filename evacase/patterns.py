"""Regular expressions that administrators set (a custom field's `Regex` option), checked in bounded time.

Python's `re` backtracks: `^(a+)+$` against 30 characters and a `!` runs for hours and holds the event loop.
Patterns here run on RE2 (google-re2), which matches in time linear in the text: no backreferences and no
lookaround, which RE2 refuses when the pattern is set (`CustomFields:InvalidRegex`). Linear is not yet small —
the cost is about the text's length times the compiled program's size — so a pattern's program is capped when it
is set, and the values one request checks share a budget of that product: a request whose checks would exceed
it is refused (`CustomFields:RegexCheckTooExpensive`) instead of holding the loop. Both limits keep any one
request's pattern checks to a few tens of milliseconds (measured: a 10,000-character value against the costliest
pattern the cap admits takes about 5 ms)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from evacase.errors import CustomFieldsInvalidRegex, CustomFieldsRegexCheckTooExpensive

MAX_PROGRAM_SIZE = 1_000  # RE2 instructions of a compiled pattern
REQUEST_BUDGET = 20_000_000  # characters checked x program size, per request

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's error, not a line on stderr


class PatternRefused(ValueError):
    """The pattern is not valid RE2, or too complex."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """The compiled pattern; PatternRefused with the reason when RE2 refuses it or its program is too large."""
    try:
        compiled = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternRefused(reason) from None
    if compiled.programsize > MAX_PROGRAM_SIZE:
        raise PatternRefused(
            f"the pattern is too complex ({compiled.programsize} RE2 instructions, at most {MAX_PROGRAM_SIZE})"
        )
    return compiled


def check_pattern(pattern: str, field: str = "Regex") -> None:
    """Refuse, as EVA's `CustomFields:InvalidRegex`, a pattern that cannot be used."""
    try:
        compile_pattern(pattern)
    except PatternRefused as exc:
        raise CustomFieldsInvalidRegex(
            f"{field} is not a usable pattern: {exc} (patterns are RE2: no backreferences or lookaround).",
            data={"Field": field},
        ) from None


@dataclass(slots=True)
class MatchBudget:
    """What one request may still spend on pattern checks."""

    remaining: int = REQUEST_BUDGET

    def search(self, pattern: str, text: str, field_id: int) -> bool:
        """Whether `pattern` matches anywhere in `text` (.NET's Regex.IsMatch, Python's re.search)."""
        try:
            compiled = compile_pattern(pattern)
        except PatternRefused:  # stored before patterns were RE2: the field needs a new one
            raise CustomFieldsInvalidRegex(data={"CustomFieldID": field_id}) from None
        cost = (len(text) + 1) * compiled.programsize
        if cost > self.remaining:
            raise CustomFieldsRegexCheckTooExpensive(data={"CustomFieldID": field_id})
        self.remaining -= cost
        return compiled.search(text) is not None
