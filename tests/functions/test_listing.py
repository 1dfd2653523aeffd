"""cPanel's list post-processing, and the database doing the same work for `Tokens::list`."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostpanel.api.uapi.meta import list_options
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import TokenQuery
from hostpanel.domain.tokens.record import token_record
from hostpanel.functions.listing import MAX_PAGE_NUMBER, ListError, Page, apply
from hostpanel.modules.tokens.uapi import _native_query
from tests.factories import FakeClock, make_token

RECORDS = [
    {"name": "b", "size": "10", "tags": ["x", "y"], "ip": "10.0.0.2", "quota": "unlimited"},
    {"name": "A", "size": "9", "tags": ["z"], "ip": "10.0.0.10", "quota": "5"},
    {"name": "c", "size": "100", "tags": [], "ip": "9.9.9.9", "quota": "0"},
]


def run(meta: dict[str, str], records: list[dict[str, Any]] | None = None) -> Any:
    return apply(list(records or RECORDS), list_options(meta))


def names(meta: dict[str, str]) -> list[str]:
    return [record["name"] for record in run(meta).records]


def test_filters() -> None:
    assert names({"api.filter_column": "name", "api.filter_term": "a"}) == ["A"]
    assert names({"api.filter_column": "tags", "api.filter_type": "eq", "api.filter_term": "y"}) == ["b"]
    assert names({"api.filter_column": "*", "api.filter_type": "begins", "api.filter_term": "9"}) == ["A", "c"]
    assert names({"api.filter_column": "size", "api.filter_type": "gt", "api.filter_term": "9"}) == ["b", "c"]
    assert names(
        {"api.filter_column": "quota", "api.filter_type": "gt_handle_unlimited", "api.filter_term": "100"}
    ) == ["b", "c"]
    assert names(
        {
            "api.filter_column_0": "name",
            "api.filter_type_0": "ne",
            "api.filter_term_0": "A",
            "api.filter_column_1": "size",
            "api.filter_type_1": "lt",
            "api.filter_term_1": "50",
        }
    ) == ["b"]
    assert names({"api.filter_column": "name", "api.filter_type": "matches", "api.filter_term": "^[a-z]$"}) == [
        "b",
        "c",
    ]
    assert names({"api.filter_column": "name", "api.filter_term": ""}) == ["b", "A", "c"]


def test_filter_messages() -> None:
    outcome = run({"api.filter_column": "nope", "api.filter_term": "x"})
    assert outcome.messages == ["The following filter did not pertain to this dataset: nope"]
    outcome = run({"api.filter_column": "name", "api.filter_type": "weird", "api.filter_term": "x"})
    assert outcome.messages == ["The following “filter” arguments are invalid: name weird x"]
    outcome = run({"api.filter_column": "name", "api.filter_type": "matches", "api.filter_term": "(unclosed"})
    assert "invalid" in outcome.messages[0]


def test_sorts() -> None:
    assert names({"api.sort_column": "name"}) == ["A", "b", "c"]
    assert names({"api.sort_column": "size", "api.sort_method": "numeric"}) == ["A", "b", "c"]
    assert names({"api.sort_column": "size"}) == ["b", "c", "A"]  # lexicographic by default
    assert names({"api.sort_column": "ip", "api.sort_method": "ipv4", "api.sort_reverse": "1"}) == ["A", "b", "c"]
    assert names({"api.sort_column": "quota", "api.sort_method": "numeric_zero_as_max"}) == ["A", "b", "c"]
    outcome = run({"api.sort_column": "name", "api.sort_method": "sideways"})
    assert outcome.messages == ["The following “sort” arguments are invalid: sideways"]


def test_columns_and_pages() -> None:
    outcome = run(
        {"api.columns_0": "name", "api.columns_1": "bogus", "api.paginate_page": "2", "api.paginate_size": "2"}
    )
    assert outcome.records == [{"name": "c"}]
    assert outcome.metadata["invalid_columns"] == ["bogus"]
    assert outcome.metadata["paginate"]["current_page"] == 2
    assert run({"api.paginate_size": "bogus"}).metadata["paginate"]["results_per_page"] == 100
    with pytest.raises(ListError, match=r"The start index \(4\) is larger than the total number of results \(3\)."):
        run({"api.paginate_start": "4"})


METAS = st.fixed_dictionaries(
    {},
    optional={
        "api.sort_column": st.sampled_from(["name", "create_time", "expires_at"]),
        "api.sort_method": st.sampled_from(["lexicographic", "numeric"]),
        "api.sort_reverse": st.sampled_from(["0", "1"]),
        "api.paginate_start": st.integers(1, 14).map(str),
        "api.paginate_size": st.integers(1, 6).map(str),
    },
)


@pytest.fixture
def many_tokens(container: Container, alice: Account, clock: FakeClock) -> Account:
    for n, name in enumerate(["zeta", "Alpha", "alpha", "beta-1", "beta_2", "9lives", "Omega", "mu", "nu", "xi"]):
        make_token(container, alice, name, expires_at=int(clock.now()) + 1000 + (n % 3))
        clock.advance(n % 2)  # ties in creation time
    return alice


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(meta=METAS)
def test_the_database_pages_exactly_as_cpanels_post_processing_would(
    container: Container, many_tokens: Account, meta: dict[str, str]
) -> None:
    options = list_options(meta)
    now = container.clock.now()
    with container.uow(write=False) as uow:
        everything = [token_record(t, now) for t in container.tokens(uow).page(many_tokens.id, TokenQuery())[0]]
        query = _native_query(options)
        native = container.tokens(uow).page(many_tokens.id, query)[0] if query else None
    try:
        generic = apply(everything, options).records
    except ListError:
        return
    if native is not None:
        assert [token_record(t, now) for t in native] == generic


def test_page_numbers_are_ascii_and_capped() -> None:
    def page(**meta: str) -> Page | None:
        return list_options({f"api.paginate_{key}": value for key, value in meta.items()}).page

    assert page(size="²") == Page(1, 100)
    assert page(start="٣", size="0") == Page(1, 100)
    assert page(start="9" * 5000, size="9" * 30) == Page(MAX_PAGE_NUMBER, MAX_PAGE_NUMBER)
    assert page(page="9" * 30, size="10") == Page(MAX_PAGE_NUMBER, 10)
    assert page(page="3", size="10") == Page(21, 10)


@pytest.mark.parametrize("pattern", [r"(a)\1", "(?<=a)b", "a{1001}", "(a{100}){100}"])
def test_patterns_that_need_backtracking_are_invalid_filters(capfd: pytest.CaptureFixture[str], pattern: str) -> None:
    outcome = run({"api.filter_column": "name", "api.filter_type": "matches", "api.filter_term": pattern})
    assert outcome.messages == [f"The following “filter” arguments are invalid: name matches {pattern}"]
    assert len(outcome.records) == len(RECORDS)
    assert capfd.readouterr().err == ""  # the pattern engine's own error log stays off
