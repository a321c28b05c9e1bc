"""Incremental body framing: the same answer however the bytes are split across reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.router.framing import Chunked, Length, UntilClose
from dockyard.router.http1 import BadMessage

BODY = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
NEXT = b"GET /next HTTP/1.1\r\n\r\n"


def feed_split(framer: Chunked | Length | UntilClose, data: bytes, cuts: list[int]) -> tuple:
    """Feed ``data`` in pieces cut at ``cuts``; (all output, the rest after the end)."""
    out = b""
    points = [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]
    start = 0
    for point in points:
        piece = data[start:point]
        start = point
        if not piece:
            continue
        passed, rest = framer.feed(piece)
        out += passed
        if rest is not None:
            return out, rest + data[start:]
    return out, None


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_chunked_passthrough_any_split(cuts: list[int]) -> None:
    out, rest = feed_split(Chunked(), BODY + NEXT, cuts)
    assert out == BODY
    assert rest == NEXT


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_chunked_decoded_any_split(cuts: list[int]) -> None:
    out, rest = feed_split(Chunked(dechunk=True), BODY + NEXT, cuts)
    assert out == b"hello world"
    assert rest == NEXT


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=8))
def test_length_any_split(cuts: list[int]) -> None:
    out, rest = feed_split(Length(12), b"0123456789ab" + NEXT, cuts)
    assert out == b"0123456789ab"
    assert rest == NEXT


def test_incomplete_bodies_wait_for_more() -> None:
    assert Chunked().feed(b"5\r\nhel") == (b"5\r\nhel", None)
    assert Length(10).feed(b"12345") == (b"12345", None)
    assert UntilClose().feed(b"anything") == (b"anything", None)


@pytest.mark.parametrize(
    "raw",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",  # not hex
        b"5\r\nhelloXX0\r\n\r\n",  # data not followed by CRLF
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"5\nhello\r\n0\r\n\r\n",  # bare LF
        b"1" * 5000,  # a size line that never ends
    ],
)
def test_malformed_chunked_bodies(raw: bytes) -> None:
    with pytest.raises(BadMessage):
        Chunked().feed(raw)
