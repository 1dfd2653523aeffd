"""Jinja2 templates (autoescaped) and the formatting filters they use."""

from __future__ import annotations

import datetime
import json
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hostpanel import __version__


def utc(epoch: float | None, with_seconds: bool = False) -> str:
    if epoch is None:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if with_seconds else "%Y-%m-%d %H:%M UTC")


def iso(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat(timespec="seconds")


def compact_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": ")) if value else ""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hostpanel.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc
    env.filters["iso"] = iso
    env.filters["compact_json"] = compact_json
    env.globals["version"] = __version__
    return env


templates = _environment()


def render(name: str, values: dict[str, Any]) -> str:
    return templates.get_template(name).render(values)
