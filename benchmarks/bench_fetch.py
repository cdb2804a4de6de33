"""A fetch cycle over loopback with injected latency, against the naive sequential loop.

Sources: every kind: hf_papers, geeknews, x (30 accounts on one mirror), hf_trending,
hackernews, reddit (2 subreddits), github_trending, bluesky (5 accounts) and 10 feeds, served by
`latency_server.py` from recorded real answers with --delay seconds per response, one server
(host:port) per site as in real life, so GeekNews's per-host interval applies to GeekNews only.
Printed:

- trendbot's cycle (the real `run_cycle`, real store in a temp dir) vs a sequential loop of
  plain `httpx.get` + `feedparser.parse`/`json.loads` over the same URLs: both times and the ratio;
- trendbot's time vs the slowest single request chain (GeekNews: the feed, then its topic
  pages one after another; `request_interval` is set to 0 here), the floor any scheduler has;
- a second cycle on unchanged sources: share of 304 answers and rows rewritten (should be 0).

    python benchmarks/bench_fetch.py [--delay 0.3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import feedparser
import httpx
from selectolax.lexbor import LexborHTMLParser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency_server import LatencyServer  # noqa: E402

from trendbot.jobs import load  # noqa: E402
from trendbot.fetch import run_cycle_async  # noqa: E402
from trendbot.kinds import bluesky, github_trending, hackernews, hf_trending, reddit  # noqa: E402
from trendbot.store import Store  # noqa: E402
from trendbot.timeutil import utcnow  # noqa: E402

ACCOUNTS = [f"account{n:02d}" for n in range(30)]
FEEDS = 10
SUBREDDITS = ["MachineLearning", "LocalLLaMA"]
BLUESKY = [f"lab{n}.bsky.social" for n in range(5)]

SITES = ("hf", "gn", "nitter", "feeds", "hft", "hn", "reddit", "gh", "bsky")


def write_project(root: Path, bases: dict[str, str], delay: float) -> None:
    (root / "sources").mkdir()
    (root / "trendbot.toml").write_text('[http]\ntimeout = "10s"\nretries = 0\n', encoding="utf-8")
    (root / "sources" / "huggingface.toml").write_text(f'kind = "hf_papers"\nbase_url = "{bases["hf"]}/hf"\n')
    # no politeness interval here: the benchmark measures scheduling, and with the default 1s
    # GeekNews alone would take 20 x (1s + delay), whatever the scheduler does
    (root / "sources" / "geeknews.toml").write_text(
        f'kind = "geeknews"\nbase_url = "{bases["gn"]}/gn"\nrequest_interval = "0s"\n')
    accounts = ", ".join(f'"{a}"' for a in ACCOUNTS)
    (root / "sources" / "x.toml").write_text(
        f'kind = "x"\naccounts = [{accounts}]\nmirrors = ["{bases["nitter"]}/nitter"]\n')
    for index in range(FEEDS):
        (root / "sources" / f"feed{index}.toml").write_text(
            f'kind = "feed"\nurl = "{bases["feeds"]}/feeds/{index}.xml"\n')
    sources = {
        "hf-trending": f'kind = "hf_trending"\nbase_url = "{bases["hft"]}/hft"\n',
        "hackernews": f'kind = "hackernews"\nbase_url = "{bases["hn"]}/hn"\n',
        "reddit": f'kind = "reddit"\nbase_url = "{bases["reddit"]}/reddit"\nsubreddits = {json.dumps(SUBREDDITS)}\n',
        "github": f'kind = "github_trending"\nbase_url = "{bases["gh"]}/gh"\n',
        "bluesky": f'kind = "bluesky"\nbase_url = "{bases["bsky"]}/bsky"\naccounts = {json.dumps(BLUESKY)}\ninclude_reposts = true\n',
    }
    for name, text in sources.items():
        (root / "sources" / f"{name}.toml").write_text(text)


def naive_urls(bases: dict[str, str], config, today) -> list[str]:
    """The same documents trendbot asks for, in the order a simple script would."""
    from datetime import timedelta

    urls = [f"{bases['hf']}/hf/api/daily_papers?date={(today - timedelta(days=d)).isoformat()}&limit=50&p=0"
            for d in range(2)]
    urls.append(f"{bases['gn']}/gn/rss/news")
    gn = config.source("geeknews")
    feed = feedparser.parse(httpx.get(f"{bases['gn']}/gn/rss/news").content)
    topic_ids = [entry.link.rsplit("=", 1)[1] for entry in feed.entries][: gn.max_enrich]
    urls += [f"{bases['gn']}/gn/topic/{topic}.md" for topic in topic_ids]
    urls += [f"{bases['nitter']}/nitter/{account}/rss" for account in ACCOUNTS]
    urls += [f"{bases['feeds']}/feeds/{index}.xml" for index in range(FEEDS)]
    urls.append(hf_trending.listing_url(f"{bases['hft']}/hft", "models", config.source("hf-trending").limit))
    urls.append(hackernews.search_url(config.source("hackernews"), utcnow(), config.tz))
    urls += [reddit.listing_url(config.source("reddit"), sub) for sub in SUBREDDITS]
    urls += github_trending.page_urls(config.source("github"))
    bsky = config.source("bluesky")
    urls += [bluesky.feed_url(bsky.base_url, actor, bsky.limit) for actor in BLUESKY]
    return urls


def naive_loop(urls: list[str]) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=10) as client:
        for url in urls:
            body = client.get(url).content
            if "/api/" in url or "/xrpc/" in url or ".json" in url:
                json.loads(body)
            elif "/trending" in url:
                LexborHTMLParser(body).css("article.Box-row")
            elif not url.endswith(".md"):
                feedparser.parse(body)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.3, help="seconds added to every response")
    args = parser.parse_args()
    servers = {site: LatencyServer(args.delay, ACCOUNTS, FEEDS) for site in SITES}
    bases = {site: server.base for site, server in servers.items()}

    def answers() -> Counter:
        return sum((server.answers for server in servers.values()), Counter())

    def reset() -> None:
        for server in servers.values():
            server.answers.clear()

    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_project(root, bases, args.delay)
            config = load(str(root / "trendbot.toml"))
            with Store(config.db_path) as store:
                started = time.perf_counter()
                report = asyncio.run(run_cycle_async(config, store, config.chosen(None)))
                first = time.perf_counter() - started
                failed = [o.line() for o in report.failed]
                requests_first = sum(answers().values())
                by_source = store.counts_by_source()
                stored = sum(by_source.values())
                reset()
                started = time.perf_counter()
                second_report = asyncio.run(run_cycle_async(config, store, config.chosen(None)))
                second = time.perf_counter() - started
                rewritten = sum(o.new + o.updated for o in second_report.outcomes)
            urls = naive_urls(bases, config, utcnow().astimezone(config.tz).date())
            gn_chain = 1 + sum(1 for u in urls if u.endswith(".md"))
            answers_second = dict(answers())
            naive = naive_loop(urls)
    finally:
        for server in servers.values():
            server.close()
    chain = gn_chain * args.delay
    total2 = sum(answers_second.values())
    print(f"loopback, {args.delay * 1000:.0f} ms per response; {len(ACCOUNTS)} X accounts, {FEEDS} feeds, "
          f"hf_papers (2 days), geeknews, hf_trending, hackernews, reddit ({len(SUBREDDITS)} subreddits), "
          f"github_trending, bluesky ({len(BLUESKY)} accounts)")
    if failed:
        print("FAILED sources:", *failed, sep="\n  ")
    print(f"trendbot cycle            {first:7.2f} s  ({requests_first} requests, {stored} items stored)")
    print(f"naive sequential loop     {naive:7.2f} s  ({len(urls)} requests)")
    print(f"ratio naive / trendbot    {naive / first:7.1f}x")
    print(f"slowest chain (geeknews)  {chain:7.2f} s  ({gn_chain} requests one after another)")
    print(f"ratio trendbot / chain    {first / max(chain, 1e-9):7.2f}x")
    print(f"re-fetch, unchanged       {second:7.2f} s  {answers_second.get(304, 0)}/{total2} answers were 304 "
          f"({100 * answers_second.get(304, 0) / max(total2, 1):.0f}%), {rewritten} items re-written")
    feeds = sum(count for name, count in by_source.items() if name.startswith("feed"))
    shown = {name: count for name, count in sorted(by_source.items()) if not name.startswith("feed")}
    print("items stored per source  ", ", ".join([*(f"{name} {count}" for name, count in shown.items()),
                                                  f"feeds {feeds}"]))


if __name__ == "__main__":
    main()
