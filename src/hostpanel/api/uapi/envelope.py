"""cPanel's UAPI result object, served bare over HTTP (built in `functions.result`, which WHM's uapi_cpanel shares)."""

from __future__ import annotations

from hostpanel.functions.result import ACCESS_DENIED, failure, from_error, result

__all__ = ["ACCESS_DENIED", "failure", "from_error", "result"]
