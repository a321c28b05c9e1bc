"""HTTP/1.1 heads and framing: what the router accepts, and what it refuses because a lenient
reading would let the router and the app disagree about where a request ends."""

from __future__ import annotations

import pytest

from dockyard.router.http1 import (
    BadMessage,
    Framing,
    framing,
    parse_request,
    parse_response,
)


def req(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode() + b"\r\n"


def test_request_head() -> None:
    head = parse_request(req("GET /a?b=1 HTTP/1.1\nHost: x.test\nX-A:  spaced  \n"))
    assert (head.method, head.target, head.version) == (b"GET", b"/a?b=1", b"HTTP/1.1")
    assert head.get(b"host") == b"x.test"
    assert head.get(b"x-a") == b"spaced"
    assert head.keep_alive
    assert not parse_request(req("GET / HTTP/1.1\nConnection: close\n")).keep_alive
    assert not parse_request(req("GET / HTTP/1.0\n")).keep_alive
    assert parse_request(req("GET / HTTP/1.0\nConnection: Keep-Alive\n")).keep_alive


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("GET / HTTP/2.0\n", 505),
        ("GET /  HTTP/1.1\n", 400),
        ("GET\n", 400),
        ("G(T / HTTP/1.1\n", 400),
        ("GET / HTTP/1.1\nHost : x\n", 400),  # space before the colon
        ("GET / HTTP/1.1\nHost: x\n folded\n", 400),
        ("GET / HTTP/1.1\nNoColon\n", 400),
        ("GET /\x7f HTTP/1.1\n", 400),
    ],
)
def test_bad_requests(text: str, status: int) -> None:
    with pytest.raises(BadMessage) as info:
        parse_request(req(text))
    assert info.value.status == status


def test_request_framing() -> None:
    def frame(headers: str) -> Framing:
        return framing(parse_request(req("POST / HTTP/1.1\n" + headers)), request=True)

    assert frame("") == Framing("none")
    assert frame("Content-Length: 0\n") == Framing("none")
    assert frame("Content-Length: 12\n") == Framing("length", 12)
    assert frame("Content-Length: 12\nContent-Length: 12\n") == Framing("length", 12)
    assert frame("Transfer-Encoding: chunked\n") == Framing("chunked")
    for smuggling in (
        "Content-Length: 12\nTransfer-Encoding: chunked\n",
        "Content-Length: 12\nContent-Length: 13\n",
        "Content-Length: -1\n",
        "Content-Length: 1e3\n",
    ):
        with pytest.raises(BadMessage) as info:
            frame(smuggling)
        assert info.value.status == 400
    with pytest.raises(BadMessage) as info:
        frame("Transfer-Encoding: gzip, chunked\n")
    assert info.value.status == 501


def test_response_framing() -> None:
    def frame(status_line: str, headers: str = "", method: bytes = b"GET") -> Framing:
        head = parse_response(req(status_line + "\n" + headers))
        return framing(head, request=False, request_method=method)

    assert frame("HTTP/1.1 200 OK", "Content-Length: 5\n") == Framing("length", 5)
    assert frame("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\n") == Framing("chunked")
    assert frame("HTTP/1.1 200 OK") == Framing("close")
    assert frame("HTTP/1.1 200 OK", "Content-Length: 5\n", method=b"HEAD") == Framing("none")
    assert frame("HTTP/1.1 204 No Content") == Framing("none")
    assert frame("HTTP/1.1 304 Not Modified", "Content-Length: 5\n") == Framing("none")
    with pytest.raises(BadMessage):
        parse_response(req("HTTP/1.1 2000 OK\n"))
    with pytest.raises(BadMessage):
        parse_response(req("SMTP 200 OK\n"))
