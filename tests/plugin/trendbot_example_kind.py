"""A fifth-party kind, outside trendbot: one module plus the entry-point line beside it
(`trendbot_example_kind-1.0.dist-info/entry_points.txt`), exactly what a package on PyPI would
ship. It reads a list of papers in Hugging Face's Daily Papers JSON (a real answer is recorded in
tests/data/hf/) as a "paper board" with its own label and popularity, so the test proves that
fetching, merging, ranking and rendering need no change to trendbot's core.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import Field

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import ParseError
from trendbot.kinds import FetchContext, Kind
from trendbot.models import Item, StoredItem


class PaperBoardSource(SourceBase):
    kind: Literal["paper_board"]
    base_url: BaseUrl = Field(description="where the board's JSON is served")


def parse_board(body: bytes, *, source: str, url: str) -> list[Item]:
    try:
        entries = json.loads(body)
    except ValueError as exc:
        raise ParseError(url, f"not JSON: {exc}") from None
    items = []
    for entry in entries:
        paper = entry["paper"]
        items.append(Item(source=source, kind="paper_board", url=f"https://board.example.org/p/{paper['id']}",
                          guid=paper["id"], title=paper["title"], text=paper.get("summary", ""),
                          popularity={"votes": paper.get("upvotes", 0)},
                          published_at=datetime.fromisoformat(paper["submittedOnDailyAt"].replace("Z", "+00:00")),
                          links=[f"https://arxiv.org/abs/{paper['id']}"]))
    return items


async def fetch(ctx: FetchContext, source: PaperBoardSource) -> list[Item]:
    url = f"{source.base_url}/board.json"
    response = await ctx.get(url, conditional=True)
    if response.not_modified:
        return []
    return await ctx.parse(parse_board, response.body, source=source.name, url=url)


def meta(item: StoredItem) -> list[str]:
    return [f"Board {item.popularity.get('votes', 0)}v"]


KIND = Kind(name="paper_board", config=PaperBoardSource, fetch=fetch, label="PB", lead=5,
            popularity=lambda pop: pop.get("votes", 0), meta=meta)
