"""Receiving `multipart/form-data` bodies as a stream: text fields into memory (bounded), file parts straight into
the staging area (bounded), so a large upload never sits in memory and an interrupted one leaves nothing behind."""

from __future__ import annotations

import re
from collections.abc import Callable

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.files.service import MAX_FILES, Upload
from hostpanel.domain.files.staging import StagedFile, Staging

MAX_PARTS = 1000
_DIRECTORIES = re.compile(r"^.*[\\/]")  # some browsers send the client's whole path as the file name


class UploadTooLarge(Exception):
    """The body passed the upload limit (the caller answers 413)."""


class MultipartReceiver:
    """Parses one multipart body fed chunk by chunk: fields kept in memory, files written to staging."""

    def __init__(
        self,
        staging: Staging,
        username: str,
        content_type: str,
        *,
        max_bytes: int,
        max_field_bytes: int,
        accept_files: bool,
        before_file: Callable[[list[tuple[str, str]]], None] | None = None,
    ) -> None:
        """`before_file` sees the fields received so far when a file part begins and may raise to refuse it (the
        web forms check their CSRF token there, before a byte of a file is stored)."""
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise InvalidInput("file", "The multipart request has no boundary.")
        self.fields: list[tuple[str, str]] = []
        self.uploads: list[Upload] = []
        self._staging = staging
        self._username = username
        self._max_bytes = max_bytes
        self._max_field_bytes = max_field_bytes
        self._accept_files = accept_files
        self._before_file = before_file
        self._received = 0
        self._field_bytes = 0
        self._parts = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._filename: str | None = None
        self._data = bytearray()
        self._staged: StagedFile | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        """Parse a chunk; past the limit, what fits under it is parsed (the fields before the files, which a form
        needs to answer) and the rest refused."""
        room = self._max_bytes - self._received
        self._received += len(chunk)
        try:
            self._parser.write(chunk if len(chunk) <= room else chunk[: max(room, 0)])
        except FormParserError:
            raise InvalidInput("file", "The multipart request is malformed.") from None
        if self._received > self._max_bytes:
            raise UploadTooLarge

    def finish(self) -> None:
        try:
            self._parser.finalize()
        except FormParserError:
            raise InvalidInput("file", "The multipart request is malformed.") from None
        if self._staged is not None:
            raise InvalidInput("file", "The multipart request ended in the middle of a file.")

    def discard(self) -> None:
        """Remove every received file not yet moved into place (idempotent)."""
        if self._staged is not None:
            self._staged.discard()
        for upload in self.uploads:
            upload.staged.discard()

    # Parser callbacks ------------------------------------------------------------------------------------------

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise InvalidInput("file", f"The request has more than {MAX_PARTS} parts.")
        self._disposition, self._name, self._filename = b"", "", None
        self._data = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        raw = options.get(b"filename")
        if raw is None:
            return
        if not self._accept_files:
            raise InvalidInput("file", "This function does not take file uploads.")
        if len(self.uploads) >= MAX_FILES:
            raise InvalidInput("file", f"The request has more than {MAX_FILES} files: upload them in several requests.")
        if self._before_file is not None:
            self._before_file(self.fields)
        self._filename = _DIRECTORIES.sub("", raw.decode("utf-8", "replace"))
        self._staged = self._staging.create_file(self._username, "upload")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._staged is not None:
            self._staged.write(memoryview(data)[start:end])
            return
        self._field_bytes += end - start
        if self._field_bytes > self._max_field_bytes:
            raise UploadTooLarge
        self._data += data[start:end]

    def _part_end(self) -> None:
        if self._staged is None:
            self.fields.append((self._name, self._data.decode("utf-8", "replace")))
            return
        staged, self._staged = self._staged, None
        if self._filename == "" and staged.size == 0:
            staged.discard()  # a file input left empty in a browser form
            return
        self.uploads.append(Upload(self._filename or "", staged))


async def receive(receiver: MultipartReceiver, request: Request) -> None:
    """Stream the request's body into `receiver`, parsing (and writing files) off the event loop."""
    async for chunk in request.stream():
        await run_in_threadpool(receiver.feed, chunk)
    await run_in_threadpool(receiver.finish)
