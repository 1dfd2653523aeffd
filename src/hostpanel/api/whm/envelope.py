"""WHM API 1's envelope (built in `functions.result`, which WHM's batch shares) and the failure cPanel's WHM port
answers to any refused authentication."""

from __future__ import annotations

from typing import Any

from hostpanel.functions.result import unknown_app, whm_failure, whm_reason, whm_success

__all__ = ["ACCESS_DENIED", "unknown_app", "whm_failure", "whm_reason", "whm_success"]

# What cPanel's WHM port answers a refused authentication with (HTTP 403), which WHMCS, pycpanel and gufy read.
ACCESS_DENIED: dict[str, Any] = {
    "cpanelresult": {
        "apiversion": "2",
        "error": "Access denied",
        "data": {"reason": "Access denied", "result": "0"},
        "type": "text",
    }
}
