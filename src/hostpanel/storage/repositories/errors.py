"""Recognising constraint violations across SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError


def is_unique_violation(error: IntegrityError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return bool(sqlstate == "23505")
    return "UNIQUE constraint failed" in str(error.orig)
