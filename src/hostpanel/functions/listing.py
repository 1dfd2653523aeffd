"""cPanel's list post-processing: columns, filters, sorts and pages, whichever dialect's meta-arguments asked for them.

Applied to any function whose data is a list of objects, in cPanel's order: columns, filters, sort, paginate.
A function may do the filtering, sorting and paging itself (in the database) and return `Presorted`; the same
metadata comes out either way.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

FILTER_TYPES = (
    "contains",
    "begins",
    "ends",
    "matches",
    "eq",
    "ne",
    "lt",
    "gt",
    "lt_handle_unlimited",
    "gt_handle_unlimited",
)
SORT_METHODS = ("lexicographic", "numeric", "numeric_zero_as_max", "ipv4")
DEFAULT_PAGE_SIZE = 100
MAX_CRITERIA = 20  # filters (and, separately, sorts) one call may ask for
MAX_REGEX_LENGTH = 100  # user patterns run over every record: keep them small
# `matches` patterns come from callers, so they run on RE2, whose time is linear in the text: Python's re can
# backtrack for ever while holding the GIL, stalling the whole worker. RE2 lacks backreferences and lookaround;
# such patterns are reported as invalid filters. Its own error log would echo the pattern to stderr: off.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
# Larger page starts and sizes mean "past the end" and "everything"; capping them keeps int(), float division and
# SQL OFFSET/LIMIT in range.
MAX_PAGE_NUMBER = 2**31 - 1
_TEXT_ONLY = ("contains", "begins", "ends", "matches")

Record = dict[str, Any]


class ListError(Exception):
    """A list option that makes the call fail (cPanel: a start index past the end)."""


@dataclass(frozen=True)
class Filter:
    """One `filter` meta-argument: keep records whose `column` passes the `type` test against `term`."""

    column: str
    type: str
    term: str


@dataclass(frozen=True)
class Sort:
    """One `sort` meta-argument: a column, how to compare its values, and the direction."""

    column: str
    method: str = "lexicographic"
    reverse: bool = False


@dataclass(frozen=True)
class Page:
    """The `paginate` meta-arguments: the first record wanted (1-based) and how many."""

    start: int  # 1-based, as cPanel counts
    size: int


@dataclass
class ListOptions:
    """The list post-processing a call asked for, with messages about arguments found invalid."""

    columns: list[str] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    sorts: list[Sort] = field(default_factory=list)
    page: Page | None = None
    messages: list[str] = field(default_factory=list)


def parse_filters(groups: Iterable[Mapping[str, str]], messages: list[str]) -> list[Filter]:
    """Filters from groups of `column`, `type`, `term` (in the order given); invalid ones are reported in `messages`
    and left out, an empty text term is none (as cPanel does)."""
    filters, invalid = [], []
    for group in groups:
        column, kind, term = group.get("column"), group.get("type") or "contains", group.get("term", "")
        if not column:
            continue
        if kind not in FILTER_TYPES or (kind == "matches" and not _valid_regex(term)):
            invalid.append(f"{column} {kind} {term}")
            continue
        if term == "" and kind in _TEXT_ONLY:
            continue  # cPanel: an empty term with a text filter is a no-op
        filters.append(Filter(column, kind, term))
    if invalid:
        messages.append(f"The following “filter” arguments are invalid: {', '.join(invalid)}")
    return filters


def parse_sorts(groups: Iterable[Mapping[str, str]], messages: list[str]) -> list[Sort]:
    """Sort keys from groups of `column`, `method`, `reverse`; an unknown method sorts lexicographically, reported."""
    sorts, invalid = [], []
    for group in groups:
        column = group.get("column")
        if not column:
            continue
        method = group.get("method") or "lexicographic"
        if method not in SORT_METHODS:
            invalid.append(method)
            method = "lexicographic"
        sorts.append(Sort(column, method, group.get("reverse", "0") == "1"))
    if invalid:
        messages.append(f"The following “sort” arguments are invalid: {', '.join(invalid)}")
    return sorts


def parse_page(start: str | None, size: str | None, number: str | None) -> Page:
    """The page asked for by a first record (1-based) or a page number, and a size (default 100); nonsense is
    ignored, and numbers past the largest mean "past the end"."""
    first, page_size, page = (_positive(text) for text in (start, size, number))
    page_size = page_size or DEFAULT_PAGE_SIZE
    if first:
        return Page(first, page_size)
    if page:
        return Page(min((page - 1) * page_size + 1, MAX_PAGE_NUMBER), page_size)
    return Page(1, page_size)


def _positive(text: str | None) -> int | None:
    """A whole number of ASCII digits above 0, capped at MAX_PAGE_NUMBER; None for anything else (ignored)."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0")
    if not digits:
        return None
    return MAX_PAGE_NUMBER if len(digits) > len(str(MAX_PAGE_NUMBER)) else min(int(digits), MAX_PAGE_NUMBER)


def _valid_regex(pattern: str) -> bool:
    if len(pattern) > MAX_REGEX_LENGTH:
        return False
    try:
        re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error:
        return False
    return True


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _number(value: Any, unlimited_as_max: bool = False) -> float:
    text = _text(value).strip()
    if unlimited_as_max and text in ("unlimited", "0", "0.0", ""):
        return math.inf
    try:
        return float(text)
    except ValueError:
        return 0.0


def _matches_one(kind: str, term: str) -> Callable[[Any], bool]:
    if kind == "matches":
        pattern = re2.compile(term, options=_RE2_OPTIONS)
        return lambda v: pattern.search(_text(v)) is not None
    lowered = term.lower()
    tests: dict[str, Callable[[Any], bool]] = {
        "contains": lambda v: lowered in _text(v).lower(),
        "begins": lambda v: _text(v).lower().startswith(lowered),
        "ends": lambda v: _text(v).lower().endswith(lowered),
        "eq": lambda v: _text(v) == term,
        "ne": lambda v: _text(v) != term,
        "lt": lambda v: _number(v) < _number(term),
        "gt": lambda v: _number(v) > _number(term),
        "lt_handle_unlimited": lambda v: _number(v, True) < _number(term, True),
        "gt_handle_unlimited": lambda v: _number(v, True) > _number(term, True),
    }
    return tests[kind]


def _keep(record: Record, test: Callable[[Any], bool], column: str) -> bool:
    values: Iterable[Any] = record.values() if column == "*" else [record.get(column)]
    for value in values:
        items = value if isinstance(value, list) else [value]
        if any(test(item) for item in items):
            return True
    return False


def _sort_key(method: str, column: str) -> Callable[[Record], Any]:
    def key(record: Record) -> Any:
        value = record.get(column)
        if method == "numeric":
            return _number(value)
        if method == "numeric_zero_as_max":
            return _number(value, unlimited_as_max=True)
        if method == "ipv4":
            try:
                return (0, int(ipaddress.IPv4Address(_text(value))))
            except ValueError:
                return (1, 0)
        return _text(value)

    return key


@dataclass
class Presorted:
    """Records already filtered, sorted and paged by the function itself; `total` counts before paging."""

    records: list[Record]
    total: int


@dataclass
class Outcome:
    """A list after post-processing: the records to answer with, their metadata and messages."""

    records: list[Record]
    metadata: dict[str, Any]
    messages: list[str]


def apply(data: list[Record] | Presorted, options: ListOptions) -> Outcome:
    metadata: dict[str, Any] = {"transformed": 1}
    messages = list(options.messages)
    if isinstance(data, Presorted):
        check_page(options, data.total)
        records, total = _columns(data.records, options, metadata), data.total
    else:
        records = _columns(data, options, metadata)
        records = _filter(records, options.filters, metadata, messages)
        records = _sort(records, options.sorts, messages)
        total = len(records)
        check_page(options, total)
        if options.page is not None:
            offset = options.page.start - 1
            records = records[offset : offset + options.page.size]
    if options.page is not None:
        metadata["paginate"] = paginate_metadata(options.page, total)
    return Outcome(records, metadata, messages)


def check_page(options: ListOptions, total: int) -> None:
    if options.page is not None and total and options.page.start > total:
        raise ListError(f"The start index ({options.page.start}) is larger than the total number of results ({total}).")


def paginate_metadata(page: Page, total: int) -> dict[str, int]:
    return {
        "total_results": total,
        "total_pages": math.ceil(total / page.size),
        "start_result": page.start,
        "results_per_page": page.size,
        "current_page": math.ceil(page.start / page.size),
    }


def _columns(records: list[Record], options: ListOptions, metadata: dict[str, Any]) -> list[Record]:
    if not options.columns:
        return records
    present = set().union(*(record.keys() for record in records)) if records else set(options.columns)
    invalid = [column for column in options.columns if column not in present]
    if invalid:
        metadata["invalid_columns"] = invalid
    wanted = [column for column in options.columns if column in present]
    return [{column: record[column] for column in wanted if column in record} for record in records]


def _filter(
    records: list[Record], filters: list[Filter], metadata: dict[str, Any], messages: list[str]
) -> list[Record]:
    if not filters:
        return records
    metadata["records_before_filter"] = len(records)
    present = set().union(*(record.keys() for record in records)) if records else set()
    for item in filters:
        if records and item.column != "*" and item.column not in present:
            messages.append(f"The following filter did not pertain to this dataset: {item.column}")
            continue
        test = _matches_one(item.type, item.term)
        records = [record for record in records if _keep(record, test, item.column)]
    return records


def _sort(records: list[Record], sorts: list[Sort], messages: list[str]) -> list[Record]:
    present = set().union(*(record.keys() for record in records)) if records else set()
    for item in reversed(sorts):  # a stable sort from the last key to the first gives ORDER BY a, b
        if records and item.column not in present:
            messages.append(f"The following sort did not pertain to this dataset: {item.column}")
            continue
        records = sorted(records, key=_sort_key(item.method, item.column), reverse=item.reverse)
    return records
