"""Incremental body framing: where a message body ends, found as its bytes arrive.

The router relays bodies as they come, without buffering them whole or re-encoding them, yet
it must know where each body ends: the next request of a kept-alive connection starts right
after it. Each framer takes the bytes as they arrive, ``feed(data) -> (out, rest)``: ``out``
is what to pass on (the bytes themselves, or only the data of a chunked body when
``dechunk``), and ``rest`` is None until the body is complete, then the bytes that follow
it. A chunked body is checked line by line (sizes, CRLFs, trailers); a malformed one raises
``BadMessage``.
"""

from __future__ import annotations

import re

from dockyard.router.http1 import BadMessage

CHUNK_SIZE = re.compile(rb"^([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?\r\n\Z")
LINE_LIMIT = 4096
TRAILER_LIMIT = 64 * 1024
Fed = tuple[bytes, bytes | None]


class Length:
    """Exactly ``length`` bytes."""

    __slots__ = ("remaining",)

    def __init__(self, length: int) -> None:
        self.remaining = length

    def feed(self, data: bytes) -> Fed:
        if len(data) < self.remaining:
            self.remaining -= len(data)
            return data, None
        take, self.remaining = self.remaining, 0
        return data[:take], data[take:]


class UntilClose:
    """A response that ends when the app closes the connection."""

    __slots__ = ()

    def feed(self, data: bytes) -> Fed:
        return data, None


_SIZE, _DATA, _DATA_END, _TRAILER = range(4)


class Chunked:
    """``Transfer-Encoding: chunked``, passed through as is, or decoded (``dechunk``)."""

    __slots__ = ("_line", "_remaining", "_state", "_trailers", "dechunk")

    def __init__(self, *, dechunk: bool = False) -> None:
        self.dechunk = dechunk
        self._state = _SIZE
        self._line = b""
        self._remaining = 0
        self._trailers = 0

    def _take_line(self, data: bytes, start: int, limit: int) -> tuple[bytes | None, int]:
        """A whole line (with its CRLF) from ``start``, or None (kept) if it is not all here."""
        end = data.find(b"\n", start)
        if end == -1:
            self._line += data[start:]
            if len(self._line) > limit:
                raise BadMessage("Chunk line too long")
            return None, len(data)
        line, self._line = self._line + data[start : end + 1], b""
        if len(line) > limit or not line.endswith(b"\r\n"):
            raise BadMessage("Malformed chunk line")
        return line, end + 1

    def feed(self, data: bytes) -> Fed:
        out: list[bytes] = []
        pos, size = 0, len(data)
        while pos < size:
            if self._state == _DATA:
                take = min(self._remaining, size - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._remaining -= take
                if not self._remaining:
                    self._state = _DATA_END
                continue
            limit = TRAILER_LIMIT if self._state == _TRAILER else LINE_LIMIT
            line, pos = self._take_line(data, pos, limit)
            if line is None:
                break
            if self._state == _SIZE:
                match = CHUNK_SIZE.match(line)
                if match is None:
                    raise BadMessage("Invalid chunk size line")
                self._remaining = int(match.group(1), 16)
                self._state = _DATA if self._remaining else _TRAILER
            elif self._state == _DATA_END:
                if line != b"\r\n":
                    raise BadMessage("Chunk data not followed by CRLF")
                self._state = _SIZE
            else:  # trailers, up to the empty line
                self._trailers += len(line)
                if self._trailers > TRAILER_LIMIT:
                    raise BadMessage("Trailers too long")
                if line == b"\r\n":
                    passed = b"".join(out) if self.dechunk else data[:pos]
                    return passed, data[pos:]
        if self.dechunk:
            return b"".join(out), None
        return data, None
