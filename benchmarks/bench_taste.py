"""Replay: does trendbot learn what a person keeps, from their edits alone?

Real Hugging Face Daily Papers answers recorded by another project (tests/data/taste/, four
weeks of June 2026) are published day by day, through the real code (`jobs.publish_day`: the
store, the story merge, the ranking, the block merge, the post), into a weekly post of a blog in
a temporary folder. After each day's publish a simulated person edits the day's block as this
person does: deletes every line outside their taste and writes a note under the first line
they keep. Their taste is a rule on the paper's abstract that trendbot never sees (by default:
robots, embodied agents, video and the 3D world). The next day's publish reads those edits.

Printed for every week: the AUC of kept over deleted among the day's candidates (the chance
that a paper the person keeps is ranked above one they delete) and the precision of the first
five lines of the section, side by side for the taste ranking, the same replay with
`[taste] weight = 0` (today's ranking), and Hugging Face's upvotes alone. And whether every
note the person wrote is still in the post, byte for byte.

    python benchmarks/bench_taste.py                 # the four weeks (about a minute)
    python benchmarks/bench_taste.py --days 10 --json out.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trendbot import digest as digests  # noqa: E402
from trendbot import jobs, kinds, taste  # noqa: E402
from trendbot.kinds.hf_papers import parse_api_page  # noqa: E402
from trendbot.store import Store  # noqa: E402

DATA = ROOT / "tests" / "data" / "taste"
SEOUL = ZoneInfo("Asia/Seoul")
# The person's taste, which trendbot never sees: papers about the physical world.
TASTE = r"\brobot|embodied|manipulation|vision-language-action|\bvideo|\b3D\b|world model"
NOTE = "  - 읽어볼 것: 우리 연구실 주제와 가까움"
POST = "_posts/{week_start:%Y-%m-%d}-week.md"


def recorded_days(limit: int | None = None) -> list[tuple[date, Path]]:
    days = sorted((date.fromisoformat(path.stem.removeprefix("hf_")), path) for path in DATA.glob("hf_*.json"))
    return days[:limit] if limit else days


def make_project(root: Path, weight: float) -> None:
    (root / "blog" / "_posts").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "sources" / "huggingface.toml").write_text('kind = "hf_papers"\n', encoding="utf-8")
    (root / "trendbot.toml").write_text(f"""timezone = "Asia/Seoul"

[digest]
stale_after = "3650d"

[blog]
repo = "blog"
post = "{POST}"
day_heading = "## {{date:%m월 %d일}}"
week_starts = "saturday"

[taste]
weight = {weight}
""", encoding="utf-8")


def store_day(store: Store, day: date, path: Path, now: datetime) -> list:
    """The day's recorded answer, read by trendbot's own parser, stored as a fetch stores it."""
    listing = parse_api_page(path.read_bytes(), source="huggingface", listed_on=day, url=str(path))
    store.upsert_items(listing.items, now, SEOUL)
    return listing.items


def liked(abstract: str) -> bool:
    return re.search(TASTE, abstract, re.I) is not None


_BLOCK = re.compile(r"(<!-- trendbot:begin (\d{4}-\d{2}-\d{2}) sha256:[0-9a-f]{64}(?: listed:[0-9a-f.]*)? -->\n)(.*?)(<!-- trendbot:end \2 -->)",
                    re.S)
_PAPER = re.compile(r"^- \[.*?\]\(https://huggingface\.co/papers/([^)\s]+)\)")


def edit_block(post: Path, day: date, abstracts: dict[str, str]) -> tuple[list[str], list[str], str | None]:
    """The person's edit of the day's block: lines outside their taste deleted, a note under the
    first kept line. Returns the papers listed (in order), the kept ones, and the note's line."""
    text = post.read_text(encoding="utf-8")
    match = next(m for m in _BLOCK.finditer(text) if m.group(2) == day.isoformat())
    lines = match.group(3).split("\n")
    out, listed, kept, noted = [], [], [], None
    for line in lines:
        paper = _PAPER.match(line)
        if not paper:
            out.append(line)
            continue
        listed.append(paper.group(1))
        if not liked(abstracts.get(paper.group(1), "")):
            continue
        kept.append(paper.group(1))
        out.append(line)
        if noted is None:
            noted = f"{NOTE} ({paper.group(1)})"
            out.append(noted)
    body = "\n".join(out)
    post.write_text(text[:match.start(3)] + body + text[match.end(3):], encoding="utf-8")
    return listed, kept, noted


def auc(scores: list[tuple[float, bool]]) -> float | None:
    """The chance that a kept paper scores above a deleted one (ties count half)."""
    yes = [s for s, k in scores if k]
    no = [s for s, k in scores if not k]
    if not yes or not no:
        return None
    wins = sum((y > n) + 0.5 * (y == n) for y in yes for n in no)
    return wins / (len(yes) * len(no))


def candidate_scores(config, store: Store, day: date) -> list[tuple[str, float, float]]:
    """(arXiv id, score as the day's ranking saw it, upvotes) of every candidate of the day."""
    registry = kinds.registry()
    rows = store.items_of_day(day)
    members = store.story_members({row.story_id for row in rows if row.story_id})
    stories = digests.group_stories(rows, members, day, registry)
    digests.score_stories(stories, registry)
    weight = config.settings.taste.weight
    digests.add_taste(stories, registry, taste.learn(store.verdicts()) if weight else None, weight)
    return [(story.lead.guid or "", story.score, float(story.lead.popularity.get("upvotes", 0))) for story in stories]


def replay(days: list[tuple[date, Path]], weight: float, keep: Path | None = None) -> dict:
    """One run of the person's weeks; per day the figures of the taste (or weight-0) ranking
    and of upvotes alone, and the notes lost. `keep`: run in this (new) folder and leave it."""
    with tempfile.TemporaryDirectory() as folder:
        root = keep or Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        make_project(root, weight)
        config = jobs.load(str(root / "trendbot.toml"))
        notes: list[tuple[Path, str]] = []
        out = []
        with Store(config.db_path) as store:
            for day, path in days:
                now = datetime.combine(day, clock(20, 0), SEOUL).astimezone(timezone.utc)
                items = store_day(store, day, path, now - timedelta(hours=4))
                abstracts = {item.guid: item.text for item in items}
                started = time.perf_counter()
                published = jobs.publish_day(config, store, day, now)
                seconds = time.perf_counter() - started
                scores = candidate_scores(config, store, day)
                post = published.result.path
                lost = sum(1 for where, note in notes if note not in where.read_text(encoding="utf-8").split("\n"))
                listed, kept, noted = edit_block(post, day, abstracts)
                if noted:
                    notes.append((post, noted))
                truth = {guid: liked(abstracts.get(guid, "")) for guid, _, _ in scores}
                out.append({
                    "day": day.isoformat(), "candidates": len(scores), "liked": sum(truth.values()),
                    "listed": len(listed), "kept": len(kept), "seconds": round(seconds, 3),
                    "auc": auc([(score, truth[guid]) for guid, score, _ in scores]),
                    "auc_upvotes": auc([(upvotes, truth[guid]) for guid, _, upvotes in scores]),
                    "top5": sum(truth.get(guid, False) for guid in listed[:5]) / max(1, min(5, len(listed))),
                    "top5_upvotes": _top5_upvotes(scores, truth),
                    "notes_lost": lost, "verdicts": sum(store.verdict_counts().values()),
                })
            out[-1]["notes_lost"] = sum(1 for where, note in notes
                                        if note not in where.read_text(encoding="utf-8").split("\n"))
    return {"weight": weight, "days": out}


def _top5_upvotes(scores, truth) -> float:
    ranked = sorted(scores, key=lambda s: -s[2])[:5]
    return sum(truth[guid] for guid, _, _ in ranked) / max(1, len(ranked))


def weeks(days: list[dict]) -> list[list[dict]]:
    by: dict[str, list[dict]] = {}
    for one in days:
        start = date.fromisoformat(one["day"])
        start -= timedelta(days=(start.weekday() - 5) % 7)  # the person's week starts on Saturday
        by.setdefault(start.isoformat(), []).append(one)
    return list(by.values())


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(learned: dict, off: dict) -> list[dict]:
    rows = []
    for n, (week, week_off) in enumerate(zip(weeks(learned["days"]), weeks(off["days"])), start=1):
        rows.append({
            "week": n, "first_day": week[0]["day"], "days": len(week),
            "candidates": sum(d["candidates"] for d in week), "liked": sum(d["liked"] for d in week),
            "auc_taste": mean(d["auc"] for d in week), "auc_weight0": mean(d["auc"] for d in week_off),
            "auc_upvotes": mean(d["auc_upvotes"] for d in week),
            "top5_taste": mean(d["top5"] for d in week), "top5_weight0": mean(d["top5"] for d in week_off),
            "top5_upvotes": mean(d["top5_upvotes"] for d in week),
            "verdicts": week[-1]["verdicts"],
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=None, help="replay only the first N recorded days")
    parser.add_argument("--weight", type=float, default=2.0, help="[taste] weight of the taste run (default 2, as trendbot's)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="leave the taste run's folder (trendbot.toml, blog, database) here, for `trendbot taste`")
    args = parser.parse_args()
    days = recorded_days(args.days)
    learned = replay(days, args.weight, args.keep)
    off = replay(days, 0.0)
    rows = table(learned, off)
    print(f"{len(days)} days of real Hugging Face Daily Papers ({days[0][0]} to {days[-1][0]}), "
          f"{sum(d['candidates'] for d in learned['days'])} papers; the person keeps /{TASTE}/ (on the abstract)\n")
    print("| week | papers | kept by the rule | AUC taste | AUC weight 0 | AUC upvotes | top-5 taste | "
          "top-5 weight 0 | top-5 upvotes | verdicts before the week ends |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['week']} ({row['first_day']}, {row['days']} days) | {row['candidates']} | {row['liked']} | "
              f"**{fmt(row['auc_taste'])}** | {fmt(row['auc_weight0'])} | {fmt(row['auc_upvotes'])} | "
              f"**{fmt(row['top5_taste'])}** | {fmt(row['top5_weight0'])} | {fmt(row['top5_upvotes'])} | "
              f"{row['verdicts']} |")
    lost = learned["days"][-1]["notes_lost"] + off["days"][-1]["notes_lost"]
    slowest = max(d["seconds"] for d in learned["days"])
    print(f"\nnotes written by the person: {sum(1 for d in learned['days'] if d['kept'])}, lost: {lost}")
    print(f"slowest publish (learning, ranking, merge and write included): {slowest:.2f} s")
    model_timing = time_model()
    print(f"learning on {model_timing['verdicts']:,} verdicts: {model_timing['learn']:.3f} s; "
          f"scoring {model_timing['stories']} stories: {model_timing['score'] * 1000:.1f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"weeks": rows, "notes_lost": lost, "taste": learned, "weight0": off,
                                               "model": model_timing}, indent=2), encoding="utf-8")


def time_model(count: int = 10_000) -> dict:
    """Learning on `count` verdicts made of the recorded papers' features, and scoring a day."""
    from trendbot.models import StoredItem, Verdict

    papers = []
    for day, path in recorded_days():
        for item in parse_api_page(path.read_bytes(), source="huggingface", listed_on=day, url=str(path)).items:
            stored = StoredItem(id=item.key, source=item.source, kind=item.kind, url=item.url, title=item.title,
                                day=day, text=item.text, extra=item.extra, links=item.links)
            papers.append((taste.story_features([stored], item.url), liked(item.text)))
    verdicts = [Verdict(date(2026, 6, 1) + timedelta(days=n // len(papers)), f"p{n}",
                        "annotated" if papers[n % len(papers)][1] else "deleted", "", papers[n % len(papers)][0])
                for n in range(count)]
    started = time.perf_counter()
    model = taste.learn(verdicts)
    learned = time.perf_counter() - started
    day = [features for features, _ in papers[:40]]
    started = time.perf_counter()
    for features in day:
        model.score(features)
    return {"verdicts": count, "learn": learned, "stories": len(day), "score": time.perf_counter() - started}


if __name__ == "__main__":
    main()
