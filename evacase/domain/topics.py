"""Rules of the topic tree."""

from __future__ import annotations

from evacase.errors import CaseTopicMaximumDepthExceeded, ValidationFailed

MAX_DEPTH = 10  # levels, the root topics being the first


def depth_exceeded() -> ValidationFailed:
    return CaseTopicMaximumDepthExceeded(f"Topics can be nested at most {MAX_DEPTH} levels deep.")
