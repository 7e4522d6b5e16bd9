"""Named queries: `-- params:` declarations and keyword binding (no database)."""

from __future__ import annotations

import pytest

from evacase.db import parse_queries, placeholders

TEXT = """
-- add --
-- Adds.
-- params: a, b,
-- params: c
SELECT $1 + $2 + $3

-- plain --
-- Positional.
SELECT $1
"""


def test_declared_parameters_bind_by_name_in_placeholder_order() -> None:
    queries = parse_queries(TEXT)
    assert queries.params == {"add": ("a", "b", "c")}
    assert queries.bound("add", c=3, a=1, b=2) == (queries["add"], 1, 2, 3)


def test_a_missing_extra_or_misspelled_argument_fails_loudly() -> None:
    queries = parse_queries(TEXT)
    with pytest.raises(TypeError, match="add takes a, b, c; got a, b"):
        queries.bound("add", a=1, b=2)
    with pytest.raises(TypeError):
        queries.bound("add", a=1, b=2, c=3, d=4)
    with pytest.raises(KeyError, match="'c'"):
        queries.bound("add", a=1, b=2, cc=3)
    with pytest.raises(KeyError):
        queries.bound("plain", x=1)  # no declaration: positional only


@pytest.mark.parametrize("params", ["a, b", "a, b, c, d", "a, a, b"], ids=["too few", "too many", "a name twice"])
def test_a_declaration_must_name_every_placeholder_once(params: str) -> None:
    with pytest.raises(ValueError, match="do not match its placeholders"):
        parse_queries(f"-- q --\n-- params: {params}\nSELECT $1, $2, $3\n")


def test_placeholders_is_the_highest_number_used() -> None:
    assert (placeholders("SELECT 1"), placeholders("SELECT $2, $10, $1")) == (0, 10)
