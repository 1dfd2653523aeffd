"""A file's bytes as a response: the one API answer that is not JSON, and the pages' downloads."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import quote

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from hostpanel.domain.files.service import Download

NO_STORE = {"Cache-Control": "no-store"}


def file_response(download: Download) -> StreamingResponse:
    """Raw bytes as an attachment named after the file, never cached."""
    name = quote(download.name, safe="")
    headers = {
        **NO_STORE,
        "Content-Length": str(download.size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
    }
    return _FileStream(download, media_type="application/octet-stream", headers=headers)


class _FileStream(StreamingResponse):
    """Streams an open file and closes it however the response ends. A client gone before the first byte means the
    body iterator never starts, so its own cleanup never runs: the response, not the iterator, owns the file."""

    def __init__(self, download: Download, *, media_type: str, headers: dict[str, str]) -> None:
        self._fd = download.fd
        super().__init__(_chunks(download.fd, download.size), media_type=media_type, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            os.close(self._fd)


def _chunks(fd: int, size: int) -> Iterator[bytes]:
    """At most the `size` announced in Content-Length, even if the file grows meanwhile (`fd` stays open)."""
    while size > 0 and (chunk := os.read(fd, min(size, 1 << 16))):
        size -= len(chunk)
        yield chunk
