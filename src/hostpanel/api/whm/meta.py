"""WHM's list meta-arguments: `api.filter.*`, `api.sort.*`, `api.chunk.*` and `api.columns.*`, each switched on by its
`enable=1` and ordered by letters `a`...`z`, read into the registry's neutral list options."""

from __future__ import annotations

import re

from hostpanel.functions.listing import MAX_CRITERIA, ListOptions, Page, parse_filters, parse_page, parse_sorts

PREFIX = "api."
_CLAUSE = re.compile(r"api\.(filter|sort|columns)\.([a-z])(?:\.([a-z0-9_]+))?")
# WHM's filter types and the neutral ones they mean (`lt_equal`/`gt_equal` have none: reported as invalid).
FILTER_TYPES = {"contains": "contains", "begins": "begins", "eq": "eq", "==": "eq", "lt": "lt", "gt": "gt",
                "lt_handle_unlimited": "lt_handle_unlimited", "gt_handle_unlimited": "gt_handle_unlimited"}  # fmt: skip


def version(pairs: list[tuple[str, str]]) -> int:
    """1 when `api.version=1` is among the arguments (query or body), else the frozen API 0."""
    return 1 if any(key == "api.version" and value.strip() == "1" for key, value in pairs) else 0


def list_options(meta: dict[str, str]) -> ListOptions:
    options = ListOptions()
    clauses: dict[str, dict[str, dict[str, str]]] = {"filter": {}, "sort": {}, "columns": {}}
    for key, value in meta.items():
        match = _CLAUSE.fullmatch(key)
        if match and meta.get(f"{PREFIX}{match.group(1)}.enable") == "1":
            clauses[match.group(1)].setdefault(match.group(2), {})[match.group(3) or ""] = value
    filters = [clauses["filter"][letter] for letter in sorted(clauses["filter"])][:MAX_CRITERIA]
    options.filters = parse_filters(
        [
            {
                "column": f.get("field", ""),
                "type": FILTER_TYPES.get(f.get("type", "contains"), "?"),
                "term": f.get("arg0", ""),
            }
            for f in filters
        ],
        options.messages,
    )
    sorts = [clauses["sort"][letter] for letter in sorted(clauses["sort"])][:MAX_CRITERIA]
    options.sorts = parse_sorts(
        [
            {
                "column": s.get("field", ""),
                "method": s.get("method", "lexicographic").removesuffix("_reverse").removesuffix("_caseless"),
                "reverse": "1" if s.get("reverse") == "1" or s.get("method", "").endswith("_reverse") else "0",
            }
            for s in sorts
        ],
        options.messages,
    )
    options.columns = [clauses["columns"][letter][""] for letter in sorted(clauses["columns"])]
    if meta.get(f"{PREFIX}chunk.enable") == "1":
        start, size = meta.get(f"{PREFIX}chunk.start"), meta.get(f"{PREFIX}chunk.size")
        page: Page = parse_page(start, size, meta.get(f"{PREFIX}chunk.select"))
        options.page = page
    return options
