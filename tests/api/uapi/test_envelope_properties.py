"""Properties of the UAPI envelope encoder: always the six keys, JSON-serialisable, empty lists sent as null."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hostpanel.api.uapi import envelope
from hostpanel.domain.errors import HostpanelError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
messages = st.one_of(st.none(), st.lists(st.text(max_size=40), max_size=3))


@given(
    st.integers(),
    json_values,
    messages,
    messages,
    messages,
    st.one_of(st.none(), st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
)
def test_result_is_always_the_cpanel_object(
    status: int, data: Any, errors: list[str] | None, notes: list[str] | None, warnings: list[str] | None, metadata: Any
) -> None:
    body = envelope.result(status, data, errors=errors, messages=notes, warnings=warnings, metadata=metadata)
    assert list(body) == ["status", "data", "errors", "messages", "warnings", "metadata"]
    assert body["status"] == (1 if status else 0)
    for key, given_list in (("errors", errors), ("messages", notes), ("warnings", warnings)):
        assert body[key] == (given_list or None)
    assert isinstance(body["metadata"], dict)
    assert json.loads(json.dumps(body)) == body


@given(st.text(min_size=1))
def test_an_error_becomes_one_failure_message(message: str) -> None:
    body = envelope.from_error(HostpanelError(message))
    assert body["status"] == 0 and body["errors"] == [message] and body["data"] is None
