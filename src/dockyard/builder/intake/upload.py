"""Receiving a source upload (``POST /v2/apps/<app>/sources``): the request body streamed
to a file in the data dir, never whole into memory, up to ``DOCKYARD_MAX_SOURCE_SIZE``.

The body is either the archive itself (``application/gzip``, or a plain tar) with ``sha``
in the query, or ``multipart/form-data`` with the archive in the field ``source`` and
optional ``procfile`` and ``sha`` fields, parsed as it arrives.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from dockyard.core.errors import Invalid, TooLarge, Unsupported

RAW_TYPES = frozenset(
    {
        "application/gzip",
        "application/x-gzip",
        "application/x-tgz",
        "application/x-tar",
        "application/x-gtar",
        "application/octet-stream",
    }
)
FIELD_LIMIT = 64 * 1024
WRONG_TYPE = (
    "Send the source as a .tar.gz body (Content-Type: application/gzip) or as "
    "multipart/form-data with the archive in the field 'source'."
)


@dataclass
class Upload:
    path: Path
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"The source is larger than {limit // 1024**2} MB (DOCKYARD_MAX_SOURCE_SIZE).")


class _Sink:
    """Bytes of the archive, to its file, counted against the limit."""

    def __init__(self, out: IO[bytes], limit: int) -> None:
        self.out = out
        self.limit = limit
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise too_large(self.limit)
        self.out.write(data)


class _Form:
    """A streaming multipart parse: the archive's part to the sink, small text fields kept,
    anything else dropped."""

    def __init__(
        self, boundary: bytes, sink: _Sink, file_field: str, text_fields: tuple[str, ...]
    ) -> None:
        self.sink = sink
        self.file_field = file_field
        self.text_fields = text_fields
        self.fields: dict[str, str] = {}
        self.saw_source = False
        self._headers: dict[bytes, bytes] = {}
        self._name: bytes = b""
        self._value: bytes = b""
        self._part: str | None = None
        self._buffer = bytearray()
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": self._field,
                "on_header_value": self._hvalue,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done,
                "on_part_data": self._data,
                "on_part_end": self._end,
            },
        )

    def _begin(self) -> None:
        self._headers, self._part, self._buffer = {}, None, bytearray()

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name, self._value = b"", b""

    def _headers_done(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._part = params.get(b"name", b"").decode("utf-8", "replace")
        if self._part == self.file_field:
            self.saw_source = True

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._part == self.file_field:
            self.sink.write(data[start:end])
        elif self._part in self.text_fields:
            self._buffer += data[start:end]
            if len(self._buffer) > FIELD_LIMIT:
                raise Invalid(f"The field {self._part} is too long.", field=self._part)

    def _end(self) -> None:
        if self._part in self.text_fields:
            self.fields[self._part] = self._buffer.decode("utf-8", "replace")


async def receive(
    *,
    chunks: AsyncIterator[bytes],
    content_type: str,
    content_length: str | None,
    query_sha: str | None,
    directory: Path,
    name: str,
    limit: int,
    file_field: str = "source",
    text_fields: tuple[str, ...] = ("procfile", "sha"),
    raw: bool = True,
) -> Upload:
    """Stream the body into ``directory/name``; the caller deletes it. 413 past the limit,
    415 for another content type, 400 for an upload without an archive. ``raw``: the body
    may be the archive itself, not only a form."""
    kind, params = parse_options_header(content_type)
    mime = kind.decode("latin-1").lower()
    if not (raw and mime in RAW_TYPES) and mime != "multipart/form-data":
        if raw:
            raise Unsupported(WRONG_TYPE)
        raise Unsupported(f"Send multipart/form-data with the archive in the field '{file_field}'.")
    if content_length and content_length.isdigit():
        # A form carries a little more than the archive; the sink counts the archive itself.
        slack = FIELD_LIMIT * 3 if mime == "multipart/form-data" else 0
        if int(content_length) > limit + slack:
            raise too_large(limit)
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    upload = Upload(path)
    try:
        with os.fdopen(fd, "wb") as out:
            sink = _Sink(out, limit)
            if mime == "multipart/form-data":
                boundary = params.get(b"boundary")
                if not boundary:
                    raise Invalid("The multipart body has no boundary.")
                form = _Form(boundary, sink, file_field, text_fields)
                try:
                    async for chunk in chunks:
                        form.parser.write(chunk)
                    form.parser.finalize()
                except MultipartParseError as exc:
                    raise Invalid(f"The multipart body is malformed: {exc}") from None
                if not form.saw_source:
                    raise Invalid(
                        f"The form has no file in the field '{file_field}'.", field=file_field
                    )
                upload.fields = form.fields
            else:
                async for chunk in chunks:
                    sink.write(chunk)
                if query_sha is not None:
                    upload.fields["sha"] = query_sha
            upload.size = sink.size
        if upload.size == 0:
            raise Invalid("The upload holds no source archive (the body is empty).")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload
