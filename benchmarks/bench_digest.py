"""Whole-process cost of `trendbot digest --date D` on a database of N items.

Prints three whole-process times (median of several runs) and their ratios:
`python -c pass`, `trendbot --help`, and `trendbot digest --date D --out -` on a generated
database of --items items (default 1,000,000) spread over 2 years, ~1,370 a day.
The database is generated once with the real Store and kept in benchmarks/.cache/. The
generator stores items without merging them (merging a million items one fetch at a time
would take the benchmark most of an hour), so the days around D are merged once before the
clock starts, as the fetch cycle would have done; that one-time cost is printed too.

    python benchmarks/bench_digest.py [--items 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from trendbot.stories import ensure_merged
from trendbot.models import Item
from trendbot.store import Store

CACHE = Path(__file__).parent / ".cache"
KINDS = [("hf", "hf_papers"), ("gn", "geeknews"), ("lab", "feed"), ("x", "x")]


def generate(path: Path, count: int) -> None:
    tz = ZoneInfo("Asia/Seoul")
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    span = timedelta(days=730).total_seconds()
    started = time.perf_counter()
    with Store(path) as store:
        batch: list[Item] = []
        for n in range(count):
            source, kind = KINDS[n % len(KINDS)]
            published = start + timedelta(seconds=span * n / count)
            batch.append(Item(
                source=source, kind=kind, url=f"https://example.com/{source}/{n}", guid=f"{source}-{n}",
                title=f"Item {n}: a generated title about model {n % 997}",
                text=f"Generated text {n}. It has two sentences.", published_at=published,
                popularity={"upvotes": n % 131} if kind == "hf_papers" else {"points": n % 53},
            ))
            if len(batch) == 20_000:
                store.upsert_items(batch, published, tz)
                batch.clear()
                done = n + 1
                rate = done / (time.perf_counter() - started)
                print(f"  generated {done:,}/{count:,} items ({rate:,.0f}/s)", file=sys.stderr)
        store.upsert_items(batch, start, tz)


def timed(cmd: list[str], runs: int, env: dict) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    db = CACHE / f"digest-{args.items}.db"
    if not db.exists():
        print(f"generating {db} ...", file=sys.stderr)
        tmp = db.with_suffix(".tmp")
        for leftover in CACHE.glob(tmp.name + "*"):
            leftover.unlink()
        generate(tmp, args.items)
        tmp.rename(db)
        for suffix in ("-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
    day = date(2026, 3, 15)
    with Store(db) as store:
        started = time.perf_counter()
        merged = ensure_merged(store, [day + timedelta(days=d) for d in range(-3, 4)], datetime.now(timezone.utc))
        merge_seconds = time.perf_counter() - started
    env = dict(os.environ, TRENDBOT_CONFIG="")
    trendbot = [sys.executable, "-m", "trendbot"]
    t_pass = timed([sys.executable, "-c", "pass"], args.runs, env)
    t_help = timed(trendbot + ["--help"], args.runs, env)
    t_digest = timed(trendbot + ["--db", str(db), "digest", "--date", day.isoformat(), "--out", "-"], args.runs, env)
    size_mb = db.stat().st_size / 1e6
    print(f"database: {args.items:,} items, {size_mb:,.0f} MB; day {day} (median of {args.runs} runs)")
    if merged:
        print(f"one-time merge of the {merged:,} unmerged items around that day: {merge_seconds:.1f} s")
    print(f"python -c pass           {t_pass * 1000:8.0f} ms")
    print(f"trendbot --help          {t_help * 1000:8.0f} ms   {t_help / t_pass:5.1f}x python -c pass")
    print(f"trendbot digest --date   {t_digest * 1000:8.0f} ms   {t_digest / t_help:5.1f}x trendbot --help")


if __name__ == "__main__":
    main()
