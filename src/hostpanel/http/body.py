"""Request bodies and URL-encoded arguments, read with limits: nobody can make the server hold more than it allows."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"
MAX_FIELDS = 1000  # arguments per request: enough for any list call, few enough to parse cheaply


class RequestTooLarge(Exception):
    """The body passed its limit (the caller answers 413)."""


class BadArguments(Exception):
    """The query string or form body cannot be read as UTF-8 arguments; the message says why."""


def has_type(request: Request, media_type: str) -> bool:
    """The request's body is of this media type (parameters such as the charset or boundary aside)."""
    return request.headers.get("content-type", "").startswith(media_type)


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused (RequestTooLarge) past `limit` bytes whether or not the client declared its length."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def declared_too_large(request: Request, limit: int) -> bool:
    """The client announced a body larger than `limit` (an undeclared one is caught while it is read)."""
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > limit


def query_pairs(request: Request) -> list[tuple[str, str]]:
    """The query string's arguments; `file-*` keys are dropped, as cPanel does (they name uploads)."""
    query = parse_arguments(request.scope.get("query_string", b""), "query string")
    return [(key, value) for key, value in query if not key.startswith("file-")]


async def arguments(request: Request, limit: int) -> list[tuple[str, str]]:
    """Query string and form body together, as cPanel parses them; `file-*` keys from the URL are dropped."""
    pairs = query_pairs(request)
    if request.method == "POST" and has_type(request, FORM_TYPE):
        body = await read_limited(request, limit)
        pairs += parse_arguments(body, "form body", MAX_FIELDS - len(pairs))
    return pairs


def parse_arguments(raw: bytes, where: str, max_fields: int = MAX_FIELDS) -> list[tuple[str, str]]:
    """URL-encoded pairs, refusing invalid UTF-8 and floods of fields with a message instead of guessing."""
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=max_fields)
    except UnicodeError:
        raise BadArguments(f"The {where} is not valid UTF-8 URL-encoded text.") from None
    except ValueError:
        raise BadArguments(f"The request has more than {MAX_FIELDS} arguments.") from None
