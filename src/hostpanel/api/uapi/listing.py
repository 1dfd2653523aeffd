"""cPanel's list post-processing: `api.columns_*`, `api.filter_*`, `api.sort_*`, `api.paginate_*`.

Applied to any function whose data is a list of objects, in cPanel's order: columns, filters, sort, paginate.
A function may do the filtering, sorting and paging itself (in the database) and return `Presorted`; the same
metadata comes out either way.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

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
MAX_POSITION = 2**31 - 1  # pagination beyond this is past the end of any list (and of SQLite's integers)
MAX_DIGITS = 10
MAX_REGEX_LENGTH = 100  # user patterns run over every record: keep them small
_TEXT_ONLY = ("contains", "begins", "ends", "matches")
_INDEXED = re.compile(r"(?P<base>.+?)(?:_(?P<n>\d+))?")

Record = dict[str, Any]


class ListError(Exception):
    """A list option that makes the call fail (cPanel: a start index past the end)."""


@dataclass(frozen=True)
class Filter:
    column: str
    type: str
    term: str


@dataclass(frozen=True)
class Sort:
    column: str
    method: str = "lexicographic"
    reverse: bool = False


@dataclass(frozen=True)
class Page:
    start: int  # 1-based, as cPanel counts
    size: int


@dataclass
class ListOptions:
    columns: list[str] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)
    sorts: list[Sort] = field(default_factory=list)
    page: Page | None = None
    messages: list[str] = field(default_factory=list)

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> ListOptions:
        options = cls()
        groups: dict[str, dict[str, dict[str, str]]] = {"filter": {}, "sort": {}}
        for key, value in meta.items():
            name = key.removeprefix("api.")
            if name.startswith("columns_"):
                options.columns.append(value)
                continue
            kind, _, rest = name.partition("_")
            match = _INDEXED.fullmatch(rest) if kind in groups and rest else None
            if match:
                groups[kind].setdefault(match.group("n") or "", {})[match.group("base")] = value
        options.filters = _filters(groups["filter"], options.messages)
        options.sorts = _sorts(groups["sort"], options.messages)
        options.page = _page(meta)
        return options


def _ordered(groups: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    return [groups[key] for key in sorted(groups, key=lambda n: -1 if n == "" else int(n))]


def _filters(groups: dict[str, dict[str, str]], messages: list[str]) -> list[Filter]:
    filters, invalid = [], []
    for group in _ordered(groups):
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


def _sorts(groups: dict[str, dict[str, str]], messages: list[str]) -> list[Sort]:
    sorts, invalid = [], []
    for group in _ordered(groups):
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


def _page(meta: dict[str, str]) -> Page | None:
    start, size, number = (meta.get(f"api.paginate_{key}") for key in ("start", "size", "page"))
    if start is None and size is None and number is None:
        return None
    page_size = _positive(size) or DEFAULT_PAGE_SIZE
    if first := _positive(start):
        return Page(first, page_size)
    if page := _positive(number):
        return Page(min((page - 1) * page_size + 1, MAX_POSITION), page_size)
    return Page(1, page_size)


def _positive(text: str | None) -> int | None:
    """A positive whole number, capped where any database index still fits; None for anything else."""
    if not text or not text.isascii() or not text.isdigit() or int(text[:MAX_DIGITS]) == 0:
        return None
    return min(int(text[:MAX_DIGITS]) if len(text) <= MAX_DIGITS else MAX_POSITION, MAX_POSITION)


def _valid_regex(pattern: str) -> bool:
    if len(pattern) > MAX_REGEX_LENGTH:
        return False
    try:
        re.compile(pattern)
    except re.error:
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
    lowered = term.lower()
    tests: dict[str, Callable[[Any], bool]] = {
        "contains": lambda v: lowered in _text(v).lower(),
        "begins": lambda v: _text(v).lower().startswith(lowered),
        "ends": lambda v: _text(v).lower().endswith(lowered),
        "matches": lambda v: re.search(term, _text(v)) is not None,
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
