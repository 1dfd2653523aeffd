"""UAPI's list meta-arguments: `api.columns_N`, `api.filter_column[_N]`/`_type`/`_term`, `api.sort_column[_N]`/
`_method`/`_reverse` and `api.paginate_start|size|page`, read into the registry's neutral list options."""

from __future__ import annotations

import re

from hostpanel.functions.listing import MAX_CRITERIA, ListOptions, parse_filters, parse_page, parse_sorts

PREFIX = "api."
_INDEXED = re.compile(r"(?P<base>.+?)(?:_(?P<n>[0-9]{1,9}))?")
_PAGINATE = ("start", "size", "page")


def list_options(meta: dict[str, str]) -> ListOptions:
    """What a call's `api.*` arguments ask of a list; unusable ones are reported in the options' messages."""
    options = ListOptions()
    groups: dict[str, dict[str, dict[str, str]]] = {"filter": {}, "sort": {}}
    for key, value in meta.items():
        name = key.removeprefix(PREFIX)
        if name.startswith("columns_"):
            options.columns.append(value)
            continue
        kind, _, rest = name.partition("_")
        match = _INDEXED.fullmatch(rest) if kind in groups and rest else None
        if match:
            groups[kind].setdefault(match.group("n") or "", {})[match.group("base")] = value
    for kind, found in groups.items():
        if len(found) > MAX_CRITERIA:  # each one is a pass over every record: bound the work a call can ask for
            ignored = len(found) - MAX_CRITERIA
            options.messages.append(
                f"Only the first {MAX_CRITERIA} “{kind}” arguments were used; {ignored} were ignored."
            )
            groups[kind] = {n: found[n] for n in _numbered(found)[:MAX_CRITERIA]}
    options.filters = parse_filters([groups["filter"][n] for n in _numbered(groups["filter"])], options.messages)
    options.sorts = parse_sorts([groups["sort"][n] for n in _numbered(groups["sort"])], options.messages)
    if any(f"{PREFIX}paginate_{key}" in meta for key in _PAGINATE):
        options.page = parse_page(*(meta.get(f"{PREFIX}paginate_{key}") for key in _PAGINATE))
    return options


def _numbered(groups: dict[str, dict[str, str]]) -> list[str]:
    """The groups' numbers in order, the unnumbered one first."""
    return sorted(groups, key=lambda n: -1 if n == "" else int(n))
