"""Kind `hf_trending`: the Hugging Face Hub's trending models, spaces and datasets.

`GET {base_url}/api/models?sort=trendingScore&limit=N` (and `/api/spaces`, `/api/datasets`)
answers a bare JSON array of repositories, most trending first. Each repository becomes one item
linked to its public page. The listing says nothing about when a repository started trending
(`createdAt` is when the repository was made, often months earlier), so an item has no published
time and belongs to the day trendbot first saw it in the list; later fetches only update its
likes. The `arxiv:ID` tags HF derives from a model card are kept as arXiv links, so a trending
model joins the story of its paper. The default listing carries no GitHub link.

A re-upload is the same model: a repository tagged `base_model:quantized:X` (a GGUF or AWQ
conversion), or `base_model:X` under X's own model name (`unsloth/Kimi-K3` of
`moonshotai/Kimi-K3`), names X's page as its `original_url`, so it joins X's story when X is
seen, and the story's line lists it by owner and format ("unsloth GGUF"). A fine-tune, an adapter or a merge of X
(`base_model:finetune:X`, `…:adapter:X`, `…:merge:X`) is a model of its own and stays apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from trendbot.config import BaseUrl, SourceBase
from trendbot.errors import ParseError
from trendbot.kinds import FetchContext, Kind
from trendbot.models import Item, StoredItem
from trendbot.values import count
from trendbot.text import clean, compact_count

PUBLIC_BASE = "https://huggingface.co"
LABEL = "🤗"
# Where each kind of repository lives on the site: models at the root, the others under a prefix.
PAGE_PREFIX = {"models": "", "spaces": "spaces/", "datasets": "datasets/"}
_ARXIV_TAG = re.compile(r"^arxiv:(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$", re.IGNORECASE)
_REPO_ID = re.compile(r"^[\w.-]+(?:/[\w.-]+)?$")
_BASE_MODEL = re.compile(r"^base_model:(?:(adapter|finetune|merge|quantized):)?([\w.-]+/[\w.-]+)$")

RepoList = Literal["models", "spaces", "datasets"]


class HfTrendingSource(SourceBase):
    kind: Literal["hf_trending"]
    base_url: BaseUrl = Field(PUBLIC_BASE, description="where the Hub API is fetched from")
    what: list[RepoList] = Field(default_factory=lambda: ["models"], min_length=1,
                                description="which trending lists to read: models, spaces, datasets")
    limit: int = Field(20, ge=1, le=100, description="repositories asked for per list (`limit`)")


def listing_url(base_url: str, what: str, limit: int) -> str:
    return f"{base_url}/api/{what}?sort=trendingScore&limit={limit}"



def arxiv_ids(tags: Any) -> list[str]:
    """The arXiv ids among a repository's tags (`arxiv:2606.19348`), versions stripped, in order."""
    found: list[str] = []
    for tag in tags if isinstance(tags, list) else ():
        match = _ARXIV_TAG.match(tag) if isinstance(tag, str) else None
        if match and match.group(1).lower() not in found:
            found.append(match.group(1).lower())
    return found


def reupload_of(repo_id: str, tags: Any) -> tuple[str, str] | None:
    """(base model, "quant" or "re-upload") when the repository is another copy of a model: a
    quantization of it, or a `base_model` of the same model name declared no fine-tune,
    adapter or merge of it."""
    relations: dict[str, set[str]] = {}
    for tag in tags if isinstance(tags, list) else ():
        match = _BASE_MODEL.match(tag) if isinstance(tag, str) else None
        if match:
            relations.setdefault(match.group(2), set()).add(match.group(1) or "")
    name = repo_id.rpartition("/")[2].lower()
    for base, kinds in sorted(relations.items()):
        if base.lower() == repo_id.lower():
            continue
        if "quantized" in kinds:
            return base, "quant"
        if kinds == {""} and base.rpartition("/")[2].lower() == name:
            return base, "re-upload"
    return None


def repo_item(entry: Any, *, source: str, what: str) -> Item | None:
    """One repository of a trending list, or None when it has no usable id."""
    if not isinstance(entry, dict):
        return None
    repo_id = entry.get("id") or entry.get("modelId")
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id.strip()):
        return None
    repo_id = repo_id.strip()
    papers = arxiv_ids(entry.get("tags"))
    popularity = {"likes": count(entry.get("likes")) or 0}
    for key, value in (("trending", entry.get("trendingScore")), ("downloads", entry.get("downloads"))):
        if (number := count(value)) is not None:
            popularity[key] = number
    extra: dict[str, Any] = {"repo_type": what.removesuffix("s"), "arxiv_ids": papers}
    for key in ("pipeline_tag", "library_name", "sdk", "createdAt"):
        if isinstance(entry.get(key), str):
            extra[key] = entry[key]
    if what == "models" and (copy := reupload_of(repo_id, entry.get("tags"))):
        extra["base_model"], extra["reupload"] = copy
        extra["original_url"] = f"{PUBLIC_BASE}/{copy[0]}"  # what it is a copy of: it joins that story
    author = entry.get("author") if isinstance(entry.get("author"), str) else repo_id.partition("/")[0]
    # `_id` survives renames; the kind keeps a model and a space of one name apart
    guid = f"{what}/{entry['_id'] if isinstance(entry.get('_id'), str) else repo_id}"
    return Item(
        source=source, kind="hf_trending", url=f"{PUBLIC_BASE}/{PAGE_PREFIX[what]}{repo_id}", guid=guid,
        title=repo_id, author=clean(author) or None, popularity=popularity,
        links=[f"https://arxiv.org/abs/{paper}" for paper in papers], extra=extra,
        raw={k: entry.get(k) for k in ("_id", "id", "likes", "trendingScore", "createdAt") if k in entry},
    )


def parse_listing(body: bytes, *, source: str, what: str, url: str, limit: int = 100) -> list[Item]:
    """The items of one trending list: a bare JSON array of repositories. An empty array is a
    quiet list; an array where no entry has an id is a changed shape."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(url, f"not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ParseError(url, f"expected a list of repositories, got {type(data).__name__}")
    items = [item for entry in data[:limit] if (item := repo_item(entry, source=source, what=what))]
    if data and not items:
        raise ParseError(url, f"none of the {min(len(data), limit)} entries has a repository id")
    return items


async def fetch_list(ctx, source: HfTrendingSource, what: str) -> list[Item]:
    url = listing_url(source.base_url, what, source.limit)
    response = await ctx.get(url, conditional=True)
    if response.not_modified:
        return []
    return await ctx.parse(parse_listing, response.body, source=source.name, what=what, url=url, limit=source.limit)


async def fetch(ctx: FetchContext, source: HfTrendingSource) -> list[Item]:
    if ctx.day is not None:
        ctx.note(f"the Hub lists only what is trending now; --date {ctx.day} reads that")
    return await ctx.each(source.what, lambda what: fetch_list(ctx, source, what))


def popularity(pop: dict) -> int:
    return int(pop.get("likes", 0))


def meta(item: StoredItem) -> list[str]:
    return [f"{LABEL} ♥{compact_count(int(item.popularity.get('likes', 0)))}"]


def copy_label(repo_id: str, base: str, kind: str) -> str:
    """How a re-upload is named in its model's line: its owner and what the copy adds to the
    model's name ("unsloth GGUF" for `unsloth/Kimi-K3-GGUF`), else what it is ("unsloth quant")."""
    owner, _, name = repo_id.partition("/")
    base_name = base.rpartition("/")[2]
    extra = name[len(base_name):].strip("-_. ") if name.lower().startswith(base_name.lower()) else ""
    return f"{owner} {extra if extra and len(extra) <= 12 else kind}"


@dataclass(frozen=True)
class _TrendingKind(Kind):
    def mention_label(self, item: StoredItem) -> str:
        base, kind = item.extra.get("base_model"), item.extra.get("reupload")
        if isinstance(base, str) and isinstance(kind, str):
            return copy_label(item.title, base, kind)
        return self.label


KIND = _TrendingKind(name="hf_trending", config=HfTrendingSource, fetch=fetch, label=LABEL, lead=15,
                     popularity=popularity, meta=meta)
