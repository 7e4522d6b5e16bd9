"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Every property test: EVACASE_HYPOTHESIS_EXAMPLES examples (CI runs 30, to stay within five minutes; run
# thousands locally).
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("EVACASE_HYPOTHESIS_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["", " ", "\u0000", "1", "-1", "9223372036854775808", "b832ece7-93ea-4c5e-ad64-11402201315d"]),
)

json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)


def request_bodies(field_names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects that mix a service's own field names with strangers, each holding any JSON value."""
    keys = st.one_of(st.sampled_from(field_names), st.text(max_size=12)) if field_names else st.text(max_size=12)
    return st.dictionaries(keys, json_values, max_size=6)
