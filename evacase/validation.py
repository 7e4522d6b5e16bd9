"""Turn msgspec's validation errors into messages that name the field and the rule."""

from __future__ import annotations

import re
from dataclasses import dataclass

import msgspec
from msgspec import inspect as mi

from evacase.errors import ValidationFailed

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")
_INDEX = re.compile(r"\[\d+\]")
_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
    "float": "a number",
    "null": "null",
    "uuid": "a GUID",
}


def _rule(info: mi.Type) -> str | None:
    """A sentence fragment for a field's bounds, e.g. `must be between 5 and 200 characters`."""
    if isinstance(info, mi.UnionType):
        rules = [r for r in (_rule(t) for t in info.types) if r]
        return rules[0] if rules else None
    if isinstance(info, mi.StrType):
        parts = []
        if info.pattern == r"\S":
            parts.append("must not be blank")
        lo, hi = info.min_length, info.max_length
        if lo is not None and hi is not None:
            parts.append(f"must be between {lo} and {hi} characters")
        elif lo is not None:
            parts.append(f"must be at least {lo} characters")
        elif hi is not None:
            parts.append(f"must be at most {hi} characters")
        return " and ".join(parts) or None
    if isinstance(info, mi.ListType) and info.max_length is not None:
        return f"must hold at most {info.max_length} items"
    if isinstance(info, mi.IntType):
        if info.ge == 1 and info.le == 2**63 - 1:
            return "must be a positive integer (at most 9223372036854775807)"
        if info.ge is not None and info.le is not None:
            return f"must be between {info.ge} and {info.le}"
        if info.ge is not None:
            return f"must be at least {info.ge}"
        if info.le is not None:
            return f"must be at most {info.le}"
    return None


@dataclass(frozen=True)
class ConstraintTexts:
    """For one request type: field path (`Title`, `InitialPageConfig.Limit`) -> its rule in words."""

    rules: dict[str, str]

    @classmethod
    def of(cls, struct: type[msgspec.Struct]) -> ConstraintTexts:
        rules: dict[str, str] = {}

        def walk(info: mi.Type, prefix: str, depth: int) -> None:
            if depth > 6:
                return
            if isinstance(info, mi.UnionType):
                for t in info.types:
                    walk(t, prefix, depth)
                return
            if isinstance(info, mi.StructType):
                for f in info.fields:
                    path = f"{prefix}.{f.encode_name}" if prefix else f.encode_name
                    rule = _rule(f.type)
                    if rule:
                        rules[path] = rule
                    walk(f.type, path, depth + 1)
            elif isinstance(info, mi.ListType):
                item_rule = _rule(info.item_type)
                if item_rule:
                    rules[f"{prefix}[]"] = item_rule
                walk(info.item_type, f"{prefix}[]", depth + 1)

        walk(mi.type_info(struct), "", 0)
        return cls(rules)

    def explain(self, error: msgspec.ValidationError) -> ValidationFailed:
        match = _AT.match(str(error))
        assert match is not None
        raw, path = match.group("msg"), match.group("path") or "$"
        field = _INDEX.sub("[]", path[2:] if path.startswith("$.") else "")
        shown = path[2:] if path.startswith("$.") else "The request"
        missing = _MISSING.match(raw)
        if missing:
            name = f"{shown}.{missing.group('field')}" if field else missing.group("field")
            return ValidationFailed(f"{name} is required", data={"Field": name})
        expected = _EXPECTED.match(raw)
        if expected:
            want = _TYPE_WORDS.get(expected.group("want").split(" ")[0], expected.group("want"))
            got = _TYPE_WORDS.get(expected.group("got"), expected.group("got"))
            if shown == "The request":
                return ValidationFailed(f"The request must be {want}, got {got}")
            return ValidationFailed(f"{shown} must be {want}, got {got}", data={"Field": shown})
        rule = self.rules.get(field)
        if rule and raw.startswith(("Expected `str`", "Expected `int`", "Expected `array`")):
            return ValidationFailed(f"{shown} {rule}", data={"Field": shown})
        if raw.startswith("Invalid"):
            return ValidationFailed(f"{shown}: {raw[0].lower()}{raw[1:]}", data={"Field": shown})
        if shown == "The request":
            return ValidationFailed(raw)
        return ValidationFailed(f"{shown}: {raw}", data={"Field": shown})
