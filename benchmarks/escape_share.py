"""How much of trendbot's markdown reads exactly as the web wrote it.

Parses every recorded document in tests/data/ with trendbot's own parsers (feeds, GeekNews feeds
and topic pages, Hugging Face daily papers, Nitter and RSSHub timelines), takes each distinct
title and each distinct summary trendbot would write (the extractive one-liner), renders them
as a digest line does, and prints the share whose markdown source equals the plain text:
before (the escaping of commit f071d14, every markdown character as a numeric reference,
reproduced below) and now. Documents written to be hostile (`*hostile*`) are left out: they
measure safety, not everyday text. The titles still changed are listed with their source form.

    python benchmarks/escape_share.py [--data tests/data] [--show 20]
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path

from trendbot.errors import ParseError
from trendbot.kinds import feed, geeknews, hf_papers, x
from trendbot.models import Item
from trendbot.render import escape_text, link, summary_beyond_title
from trendbot.summarize import extractive_summary
from trendbot.text import clean

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
URL = "https://example.com/"
MAX_CHARS = 120  # [summarizer] max_chars default

_OLD_TABLE = str.maketrans({ch: f"&#{ord(ch)};" for ch in "&<>*_[]()|#`~{}\"'"}
                           | {"$": "<span>&#36;</span>", "\\": "<span>&#92;</span>"})


def old_escape_text(text: str) -> str:
    """escape_text as it was before the escaping was made light."""
    escaped = clean(text).translate(_OLD_TABLE)
    return re.sub(r"[-.](?=[-.])", lambda m: f"&#{ord(m.group())};", escaped)


def old_link(title: str) -> str:
    text = old_escape_text(title)
    return f"[{'&#94;' + text[1:] if text.startswith('^') else text}]({URL})"


def items_of(path: Path) -> tuple[list[Item], list[str]]:
    """The items of one recorded document, and summaries it gives outside any item."""
    body, name, folder = path.read_bytes(), path.name, path.parent.name
    url = f"https://recorded/{folder}/{name}"
    if name.startswith(("gn_atom", "rss_news", "geeknews_atom")):
        return [geeknews.topic_item("geeknews", topic, None)
                for topic in geeknews.parse_feed_topics(body, feed_url=url).topics], []
    if folder == "geeknews" and name.startswith("topic_"):
        topic_id = int(re.search(r"\d+", name).group())
        details = (geeknews.parse_topic_markdown(body, url=url) if name.endswith(".md")
                   else geeknews.parse_topic_page(body, topic_id=topic_id, url=url))
        return [], [details.summary or ""]
    if name.endswith(".json") and ("api" in name or folder == "hf"):
        return hf_papers.parse_api_page(body, source="hf", listed_on=None, url=url).items, []
    if name.startswith("papers_date"):
        return hf_papers.parse_listing_page(body, source="hf", listed_on=date(2026, 6, 12), url=url).items, []
    if name.startswith(("nitter", "rsshub", "xcancel")):
        return x.parse_timeline(body, source="x", feed_url=url, account="akhaliq").posts, []
    if path.suffix in (".xml", ".json"):
        return feed.parse_feed(body, source=folder, feed_url=url).items, []
    return [], []


def collect(data: Path) -> tuple[list[str], list[str]]:
    titles: dict[str, None] = {}
    summaries: dict[str, None] = {}
    for path in sorted(data.rglob("*")):
        if not path.is_file() or "hostile" in path.name or path.suffix not in (".xml", ".json", ".html", ".md"):
            continue
        try:
            items, extra = items_of(path)
        except (ParseError, ValueError):
            continue  # the recorded broken answers (truncated, wrong shape, error pages)
        for item in items:
            title = clean(item.title)
            summary = extractive_summary([item], MAX_CHARS)
            if item.kind == "x":
                summary = summary_beyond_title(title, summary)
            titles.setdefault(title)
            if clean(summary) and clean(summary) != title:
                summaries.setdefault(clean(summary))
        for summary in extra:
            if clean(summary):
                summaries.setdefault(clean(summary))
    return [t for t in titles if t], list(summaries)


def share(texts: list[str], render, plain) -> tuple[int, float]:
    same = sum(render(text) == plain(text) for text in texts)
    return same, 100 * same / len(texts) if texts else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show", type=int, default=20, help="list this many titles still changed")
    args = parser.parse_args()
    titles, summaries = collect(args.data)

    def as_link(text: str) -> str:
        return f"[{text}]({URL})"

    rows = [
        ("titles", titles, old_link, lambda t: link(t, URL), as_link),
        ("summaries", summaries, old_escape_text, escape_text, lambda t: t),
    ]
    print(f"{'':10} {'count':>6} {'unchanged before':>18} {'unchanged now':>16}")
    for label, texts, before, now, plain in rows:
        old_same, old_share = share(texts, before, plain)
        new_same, new_share = share(texts, now, plain)
        print(f"{label:10} {len(texts):>6} {old_same:>8} {old_share:6.1f} % {new_same:>8} {new_share:6.1f} %")
    changed = [(t, link(t, URL)) for t in titles if link(t, URL) != as_link(t)]
    changed += [(s, escape_text(s)) for s in summaries if escape_text(s) != s]
    if changed and args.show:
        print(f"\nstill changed ({len(changed)}), plain → source:")
        for plain_text, source in changed[: args.show]:
            print(f"  {plain_text[:90]!r}\n  → {source[:110]!r}")


if __name__ == "__main__":
    main()
