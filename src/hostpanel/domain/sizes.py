"""Sizes as people read them, in cPanel's words (its `humansize` fields)."""

from __future__ import annotations


def human_size(size: int) -> str:
    """cPanel's `humansize`: `512 bytes`, `4 KB`, `1.75 MB`."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.2f}".rstrip("0").rstrip(".") + f" {unit}"
