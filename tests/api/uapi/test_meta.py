"""UAPI's `api.*` list meta-arguments, read into the neutral list options."""

from __future__ import annotations

from hostpanel.api.uapi.meta import list_options


def test_the_number_of_filters_and_sorts_is_bounded() -> None:
    meta = {f"api.filter_column_{n}": "name" for n in range(30)} | {f"api.filter_term_{n}": "a" for n in range(30)}
    options = list_options(meta)
    assert len(options.filters) == 20
    assert options.messages == ["Only the first 20 “filter” arguments were used; 10 were ignored."]
