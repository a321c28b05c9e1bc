"""DRF-style pagination: ``?limit=&offset=`` (v2) or ``?page_size=`` (v1), answered as
``{"count", "next", "previous", "results"}`` with absolute next/previous URLs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Databases take a signed 64-bit OFFSET; anything larger is past the end just the same.
MAX_OFFSET = 2**63 - 1


def _to_int(value: str | None, default: int, *, low: int) -> int:
    """Like DRF: a missing or unusable value falls back to the default."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        return default
    return number if number >= low else default


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page_params(
    limit: Annotated[str | None, Query(description="Page size (v2 form).")] = None,
    offset: Annotated[str | None, Query(description="Items to skip.")] = None,
    page_size: Annotated[str | None, Query(description="Page size (v1 form).")] = None,
) -> Page:
    size = _to_int(limit if limit is not None else page_size, DEFAULT_LIMIT, low=1)
    offset_number = min(_to_int(offset, 0, low=0), MAX_OFFSET)
    return Page(limit=min(size, MAX_LIMIT), offset=offset_number)


async def _page_dependency(
    limit: Annotated[str | None, Query(description="Page size (v2 form).")] = None,
    offset: Annotated[str | None, Query(description="Items to skip.")] = None,
    page_size: Annotated[str | None, Query(description="Page size (v1 form).")] = None,
) -> Page:
    # async: FastAPI runs plain ``def`` dependencies in a thread pool, which costs more
    # than the parsing itself on every list request.
    return page_params(limit, offset, page_size)


PageDep = Annotated[Page, Depends(_page_dependency)]


def paginated(request: Request, page: Page, count: int, results: list[Any]) -> dict[str, Any]:
    url = request.url
    nxt = prev = None
    if page.offset + page.limit < count:
        nxt = str(url.include_query_params(limit=page.limit, offset=page.offset + page.limit))
    if page.offset > 0:
        back = max(page.offset - page.limit, 0)
        prev_url = url.include_query_params(limit=page.limit)
        prev = str(
            prev_url.include_query_params(offset=back)
            if back
            else prev_url.remove_query_params("offset")
        )
    return {"count": count, "next": nxt, "previous": prev, "results": results}
