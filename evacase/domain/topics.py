"""Rules of the topic tree."""

from __future__ import annotations

from evacase.errors import NotFound, ValidationFailed

MAX_DEPTH = 10  # levels, the root topics being the first


def topic_not_found() -> NotFound:
    return NotFound("The case topic does not exist.", "CaseTopic:NotFound")


def depth_exceeded() -> ValidationFailed:
    return ValidationFailed(f"Topics can be nested at most {MAX_DEPTH} levels deep.", "CaseTopic:MaximumDepthExceeded")
