"""Side by side: trendbot, lemon24/reader 3.26 and a naive `feedparser.parse` loop.

Every tool runs as a process of its own and is measured from outside: wall time, CPU time
(user + sys, from `os.wait4`) and peak resident memory (`ru_maxrss`; while a tool runs more than
one process, the sum of their proportional set sizes, sampled from /proc every 20 ms, counts
too). trendbot is driven only through its command line
(`python -m trendbot ...` with this interpreter and PYTHONPATH), so the benchmark keeps working
while trendbot's insides change. reader runs in a virtual environment of its own under
benchmarks/.cache/, created from PyPI on first use.

The feeds come from `latency_server.py`, started as a separate process (so it never shares a
GIL with a measured tool): N Atom feeds of 50 entries, about 98 kB each, derived from a real
GeekNews capture, each answer delayed by --delay seconds, with ETag, Last-Modified and 304
answers to conditional requests; the server counts what it answered.

Rows of the printed table:

- cold fetch of N feeds: the naive loop (urllib + feedparser, one feed after another); reader
  (`add_feed` for each URL on a fresh database, then `update_feeds(workers=16,
  scheduled=False)`: by default reader 3.26 leaves alone a feed updated within the hour); trendbot
  (`trendbot fetch` on a fresh database, one `feed` source per URL, `[http] concurrency = 16`);
- CPU time and peak RSS of those processes;
- re-fetch of the N unchanged feeds: requests that were conditional and answered 304, the rows
  each tool changed in its database (every table, compared before and after) and whether
  trendbot's database file was written at all; the network floor is ceil(N / 16) x delay;
- start-up: `python -c pass`, `import reader`, `trendbot fetch` with no sources, `trendbot
  --help` (median of --runs, after one unmeasured run each);
- `trendbot digest --date D --out -` on a generated database (--digest-items, ~250 items a day,
  built by SQL inserts into the schema trendbot itself creates, cached under .cache by schema);
- merging --merge-items items, by `bench_merge.py --store` (its own figures).

    python benchmarks/bench_vs_reader.py [--feeds 200] [--delay 0.3] [--skip-reader] [--quick]
        [--json FILE] [--py-spy FILE.txt|.json|.svg]
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.request import urlopen
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
READER_REQUIREMENTS = ("reader==3.26", "sgmllib3k")
GOALS = {"cold": 0.8, "refetch_floor": 1.3, "rss_mib": 120, "no_sources": 5.0, "digest": 1.5,
         "merge_s": 2.0, "merge_bytes": 300e6}
DIGEST_GENERATOR = "2"   # bump when the generated rows change, so cached databases are rebuilt
PER_DAY = (("huggingface", "hf_papers", 50), ("geeknews", "geeknews", 35), ("x", "x", 150),
           ("lab-blog", "feed", 15))
MIB = 2**20

NAIVE = """
import json, sys, urllib.request
import feedparser
entries = 0
for url in open(sys.argv[1]).read().split():
    with urllib.request.urlopen(url, timeout=60) as answer:
        entries += len(feedparser.parse(answer.read()).entries)
print(json.dumps({"entries": entries}))
"""

READER = """
import json, sys, time
from reader import make_reader
db, urls, mode, workers = sys.argv[1], open(sys.argv[2]).read().split(), sys.argv[3], int(sys.argv[4])
reader = make_reader(db)
started = time.perf_counter()
if mode == "cold":
    for url in urls:
        reader.add_feed(url)
reader.update_feeds(workers=workers, scheduled=False)  # 3.26 skips feeds updated within the hour
seconds = time.perf_counter() - started
failed = sum(1 for feed in reader.get_feeds() if feed.last_exception)
print(json.dumps({"entries": reader.get_entry_counts().total, "failed": failed, "update_seconds": seconds}))
reader.close()
"""


# -- measuring a process -------------------------------------------------------------------

@dataclass
class Run:
    wall: float
    cpu: float
    peak: int            # bytes
    processes: int       # processes summed for `peak` (1: the tool's own ru_maxrss)
    returncode: int
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except OSError:
            pass
    return found


def _pss(pid: int) -> int:
    """The process's share of memory: pages shared with others count by fractions (a child
    forked or vforked from the tool is not counted twice)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def measure(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None, sample: bool = True,
            timeout: float = 3600) -> Run:
    """Run `cmd` to its end; wall time, CPU time and peak memory of its process (tree)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        watchdog = threading.Timer(timeout, proc.kill)
        watchdog.start()
        peak_tree, most = [0], [1]
        done = threading.Event()

        def sampler() -> None:
            while not done.wait(0.02):
                pids = _tree(proc.pid)
                if len(pids) > 1:  # alone, the process's own ru_maxrss is exact
                    most[0] = max(most[0], len(pids))
                    peak_tree[0] = max(peak_tree[0], sum(_pss(p) for p in pids))

        thread = threading.Thread(target=sampler, daemon=True)
        if sample:
            thread.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        watchdog.cancel()
        if sample:
            thread.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # a short-lived helper (e.g. `ldconfig -p`, run by ctypes at import) leaves the figure alone
        tree_counts = peak_tree[0] > usage.ru_maxrss * 1024
        peak = max(usage.ru_maxrss * 1024, peak_tree[0])
        return Run(wall, usage.ru_utime + usage.ru_stime, peak, most[0] if tree_counts else 1, proc.returncode,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def median_wall(cmd: list[str], runs: int, expect: int = 0, **kwargs) -> dict:
    """One unmeasured run (caches warm, files created), then the median of `runs`."""
    first = measure(cmd, sample=False, **kwargs)
    if first.returncode != expect:
        raise SystemExit(f"failed ({first.returncode}): {shlex.join(cmd)}\n{first.stderr[-2000:]}")
    walls = [measure(cmd, sample=False, **kwargs).wall for _ in range(runs)]
    return {"median": statistics.median(walls), "min": min(walls), "max": max(walls), "runs": runs}


# -- the tools -----------------------------------------------------------------------------

def trendbot_env() -> dict:
    env = dict(os.environ)
    env.pop("TRENDBOT_CONFIG", None)
    return env


def reader_env() -> dict:
    """reader's venv must not see this interpreter's packages through PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def reader_python(cache: Path) -> Path:
    """The python of a venv holding reader 3.26, created from PyPI the first time."""
    venv = cache / "reader-3.26-venv"
    python = venv / "bin" / "python"
    marker = venv / "installed.txt"
    wanted = "\n".join(READER_REQUIREMENTS)
    if marker.exists() and marker.read_text() == wanted and python.exists():
        return python
    print(f"installing {', '.join(READER_REQUIREMENTS)} into {venv} ...", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *READER_REQUIREMENTS], check=True, env=reader_env())
    marker.write_text(wanted)
    return python


def trendbot_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "trendbot", *args]


def trendbot_project(root: Path, urls: list[str], workers: int) -> Path:
    """A folder with trendbot.toml and one `feed` source per URL; returns the config path."""
    (root / "sources").mkdir(parents=True)
    config = root / "trendbot.toml"
    config.write_text(f'db = "trendbot.db"\n\n[http]\nconcurrency = {workers}\n', encoding="utf-8")
    width = len(str(len(urls)))
    for index, url in enumerate(urls):
        (root / "sources" / f"feed{index:0{width}d}.toml").write_text(f'kind = "feed"\nurl = "{url}"\n')
    return config


# -- the database, compared before and after -----------------------------------------------

def snapshot(path: Path) -> dict[str, Counter]:
    """Every row of every ordinary table (full-text index tables left out), as a multiset."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = conn.execute("select name, sql from sqlite_master where type = 'table'").fetchall()
        virtual = [name for name, sql in tables if (sql or "").upper().startswith("CREATE VIRTUAL")]
        rows = {}
        for name, _ in tables:
            if name in virtual or any(name.startswith(v + "_") for v in virtual) or name.startswith("sqlite_"):
                continue
            rows[name] = Counter(hashlib.blake2b(repr(row).encode(), digest_size=12).digest()
                                 for row in conn.execute(f'select * from "{name}"'))
        return rows
    finally:
        conn.close()


def rows_written(before: dict[str, Counter], after: dict[str, Counter]) -> dict[str, int]:
    """Rows new or changed (or removed) per table, tables with none left out."""
    written = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, Counter()), after.get(name, Counter())
        count = max(sum((new - old).values()), sum((old - new).values()))
        if count:
            written[name] = count
    return written


def file_state(path: Path) -> list:
    return [(p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(path.parent.glob(path.name + "*"))]


# -- fetch rows ----------------------------------------------------------------------------

class Server:
    """latency_server.py in its own process."""

    def __init__(self, feeds: int, delay: float, feed_bytes: int):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "latency_server.py"), "--feeds", str(feeds), "--delay", str(delay),
             "--feed-bytes", str(feed_bytes)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            raise SystemExit(f"latency_server.py did not start: {line!r}")
        self.base = line.split()[1]
        self.urls = [f"{self.base}/feeds/{index}.xml" for index in range(feeds)]

    def stats(self) -> dict:
        """What the server answered since the last call."""
        with urlopen(f"{self.base}/_stats?reset=1", timeout=10) as answer:
            return json.loads(answer.read())

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {}


def run_naive(server: Server, work: Path) -> dict:
    urls = work / "urls.txt"
    server.stats()
    run = measure([sys.executable, "-c", NAIVE, str(urls)], env=trendbot_env())
    if run.returncode:
        raise SystemExit(f"naive loop failed:\n{run.stderr[-2000:]}")
    return {**asdict(run), "server": server.stats(), **json_line(run.stdout), "stdout": None, "stderr": None}


def run_reader(server: Server, work: Path, python: Path, workers: int) -> dict:
    db = work / "reader.sqlite"
    result = {}
    for mode in ("cold", "refetch"):
        before = snapshot(db) if mode == "refetch" else None
        server.stats()
        run = measure([str(python), "-c", READER, str(db), str(work / "urls.txt"), mode, str(workers)],
                      env=reader_env(), cwd=work)
        if run.returncode:
            raise SystemExit(f"reader {mode} failed:\n{run.stderr[-3000:]}")
        result[mode] = {**asdict(run), "server": server.stats(), **json_line(run.stdout), "stdout": None,
                        "stderr": None}
        if before is not None:
            result[mode]["rows_written"] = rows_written(before, snapshot(db))
    return result


def run_trendbot(server: Server, work: Path, workers: int) -> dict:
    config = trendbot_project(work / "trendbot", server.urls, workers)
    db = config.parent / "trendbot.db"
    result = {}
    for mode in ("cold", "refetch"):
        before = snapshot(db) if mode == "refetch" else None
        files_before = file_state(db) if mode == "refetch" else None
        server.stats()
        run = measure(trendbot_cmd("--config", str(config), "fetch"), env=trendbot_env(), cwd=config.parent)
        entry = {**asdict(run), "server": server.stats(), "stdout": None,
                 "stderr": run.stderr[-2000:] if run.returncode else None}
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        entry["entries"] = conn.execute("select count(*) from items").fetchone()[0]
        conn.close()
        if before is not None:
            entry["file_written"] = file_state(db) != files_before
            entry["rows_written"] = rows_written(before, snapshot(db))
        result[mode] = entry
    return result


def fetch_rows(args, work: Path, reader_py: Path | None) -> dict:
    print(f"serving {args.feeds} feeds, {args.delay * 1000:.0f} ms per answer ...", file=sys.stderr)
    server = Server(args.feeds, args.delay, args.feed_bytes)
    try:
        (work / "urls.txt").write_text("\n".join(server.urls) + "\n")
        out: dict = {"reader": [], "trendbot": []}
        if not args.skip_naive:
            print("naive loop ...", file=sys.stderr)
            out["naive"] = run_naive(server, work)
        for index in range(args.rounds):
            round_dir = work / f"round{index}"
            round_dir.mkdir()
            (round_dir / "urls.txt").write_text("\n".join(server.urls) + "\n")
            if reader_py:
                print(f"reader, round {index + 1} ...", file=sys.stderr)
                out["reader"].append(run_reader(server, round_dir, reader_py, args.workers))
            print(f"trendbot, round {index + 1} ...", file=sys.stderr)
            out["trendbot"].append(run_trendbot(server, round_dir, args.workers))
        if args.py_spy:
            out["profile"] = profile_trendbot(server, work, args)
        return out
    finally:
        server.close()


def profile_trendbot(server: Server, work: Path, args) -> dict:
    """One more (unmeasured) cold trendbot fetch under py-spy; a raw (.txt) profile is summed up."""
    py_spy = shutil.which("py-spy")
    if not py_spy:
        raise SystemExit("--py-spy needs py-spy on PATH (pip install py-spy)")
    target = Path(args.py_spy).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".txt": "raw", ".json": "speedscope", ".svg": "flamegraph"}.get(target.suffix, "raw")
    config = trendbot_project(work / "profiled", server.urls, args.workers)
    print(f"trendbot under py-spy -> {target} ...", file=sys.stderr)
    subprocess.run([py_spy, "record", "--rate", "200", "--subprocesses", "--format", fmt, "-o", str(target),
                    "--", *trendbot_cmd("--config", str(config), "fetch")],
                   env=trendbot_env(), cwd=config.parent, check=True, stdout=subprocess.DEVNULL)
    return {"file": str(target), "top": top_functions(target) if fmt == "raw" else None}


def top_functions(path: Path, top: int = 15) -> dict:
    """Shares of samples by function (file and name, lines merged): in the stack, and on top."""
    total, inclusive, own = 0, Counter(), Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
        own[frames[-1]] += int(count)
    return {"samples": total,
            "inclusive": [(f, round(100 * n / total, 1)) for f, n in inclusive.most_common(top)] if total else [],
            "self": [(f, round(100 * n / total, 1)) for f, n in own.most_common(top)] if total else []}


# -- the digest database -------------------------------------------------------------------

def digest_project(root: Path) -> Path:
    """A project with the four kinds a user typically runs, matching the generated items."""
    (root / "sources").mkdir(parents=True, exist_ok=True)
    (root / "trendbot.toml").write_text('db = "trendbot.db"\n', encoding="utf-8")
    (root / "sources" / "huggingface.toml").write_text('kind = "hf_papers"\n')
    (root / "sources" / "geeknews.toml").write_text('kind = "geeknews"\n')
    (root / "sources" / "x.toml").write_text(
        'kind = "x"\naccounts = ["_akhaliq", "karpathy"]\nmirrors = ["https://nitter.example.org"]\n')
    (root / "sources" / "lab-blog.toml").write_text('kind = "feed"\nurl = "https://blog.example.com/feed.xml"\n')
    return root / "trendbot.toml"


def schema_of(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("select type, name, tbl_name, sql from sqlite_master order by type, name").fetchall()
        version = conn.execute("pragma user_version").fetchone()[0]
    finally:
        conn.close()
    return hashlib.sha256(repr((rows, version)).encode()).hexdigest()[:12]


def title_words() -> list[str]:
    sys.path.insert(0, str(HERE))
    from latency_server import GEEKNEWS_ATOM, _TITLE

    return [w.decode() for title in _TITLE.findall(GEEKNEWS_ATOM.read_bytes()) for w in title.split()]


def generated_rows(count: int, last_day: date, words: list[str]):
    """(day, item row) for `count` items, ~250 a day, ending on `last_day` (see PER_DAY)."""
    per_day = sum(n for _, _, n in PER_DAY)
    days = math.ceil(count / per_day)
    first = last_day - timedelta(days=days - 1)
    tz = ZoneInfo("Asia/Seoul")
    rnd = random.Random(7)
    n = 0
    for d in range(days):
        day = first + timedelta(days=d)
        start = datetime(day.year, day.month, day.day, 8, tzinfo=tz)
        papers = [f"{day:%y%m}.{d % 100:02d}{k:03d}" for k in range(50)]
        slot = 0
        for source, kind, quota in PER_DAY:
            for _ in range(quota):
                if n >= count:
                    return
                published = (start + timedelta(minutes=slot * 3)).astimezone(timezone.utc)
                seen = published + timedelta(minutes=10)
                title = " ".join(rnd.choices(words, k=rnd.randint(5, 10)))
                text = " ".join(rnd.choices(words, k=80 if kind == "hf_papers" else 30))
                paper = rnd.choice(papers)
                popularity, links, extra, author = {}, [], {}, None
                raw: dict = {"title": title}
                if kind == "hf_papers":
                    url, guid = f"https://huggingface.co/papers/{papers[slot % 50]}", papers[slot % 50]
                    popularity = {"upvotes": rnd.randrange(200)}
                    links = [f"https://arxiv.org/abs/{guid}", f"https://github.com/lab{n % 997}/repo{n}"]
                    raw = {"paper": {"id": guid, "title": title, "summary": text, "upvotes": popularity["upvotes"],
                                     "authors": [{"name": f"Author {k}", "hidden": False} for k in range(8)]},
                           "publishedAt": published.isoformat(), "numComments": rnd.randrange(5)}
                elif kind == "geeknews":
                    guid = str(30000 + n)
                    url = f"https://news.hada.io/topic?id={guid}"
                    popularity = {"points": rnd.randrange(60), "comments": rnd.randrange(20)}
                    original = rnd.choice([f"https://arxiv.org/abs/{paper}", f"https://blog{n % 50}.example.com/{n}"])
                    links, extra, author = [original], {"original_url": original}, "neo"
                elif kind == "x":
                    guid = str(1990000000000000000 + n)
                    url, author = f"https://x.com/acct{n % 30}/status/{guid}", f"@acct{n % 30}"
                    links = [f"https://arxiv.org/abs/{paper}"] if rnd.random() < 0.3 else []
                    raw = {"link": url, "guid": guid, "title": title}
                else:
                    guid = f"https://blog.example.com/posts/{n}"
                    url = guid
                ident = hashlib.sha256(f"{source}\x1f{guid}".encode()).hexdigest()[:20]
                yield day, {
                    "id": ident, "source": source, "kind": kind, "guid": guid, "url": url, "canonical_url": url,
                    "title": title, "text": text, "summary": None, "author": author,
                    "published_at": published.isoformat(timespec="seconds"), "day": day.isoformat(),
                    "first_seen_at": seen.isoformat(timespec="seconds"), "updated_at": seen.isoformat(timespec="seconds"),
                    "popularity": json.dumps(popularity, sort_keys=True), "links": json.dumps(links),
                    "extra": json.dumps(extra, sort_keys=True), "raw": json.dumps(raw, ensure_ascii=False),
                    "content_hash": "v1:" + hashlib.sha256(ident.encode()).hexdigest()[:24] + ":" + day.isoformat(),
                }
                slot += 1
                n += 1


def build_digest_db(cache: Path, count: int, day: date) -> tuple[Path, Path, dict]:
    """The cached database of `count` items for `day`, built on first use; and its config."""
    project = cache / "digest-project"
    config = digest_project(project)
    empty = cache / "digest-schema.db"
    for leftover in cache.glob(empty.name + "*"):
        leftover.unlink()
    run = measure(trendbot_cmd("--config", str(config), "--db", str(empty), "sources"), env=trendbot_env(),
                  sample=False)
    if run.returncode or not empty.exists():
        raise SystemExit(f"trendbot did not create its schema:\n{run.stderr[-2000:]}")
    key = schema_of(empty)
    db = cache / f"digest-{count}-g{DIGEST_GENERATOR}-{key}.db"
    info = {"path": str(db), "schema": key, "built": False}
    if db.exists():
        empty.unlink()
        return db, config, info
    for stale in cache.glob(f"digest-{count}-*.db*"):
        stale.unlink()
    print(f"building {db.name} ({count:,} items) ...", file=sys.stderr)
    started = time.perf_counter()
    tmp = db.with_suffix(".tmp")
    empty.rename(tmp)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("pragma journal_mode = delete")
    conn.execute("pragma synchronous = off")
    columns = {row[1]: row for row in conn.execute("pragma table_info(items)")}
    story_columns = {row[1]: row for row in conn.execute("pragma table_info(story_items)")}
    known = set(next(generated_rows(1, day, ["a"]))[1])
    unknown = [name for name, row in columns.items() if name not in known and row[3] and row[4] is None]
    if unknown:
        raise SystemExit(f"items has required columns this generator does not fill: {unknown}; "
                         "update generated_rows() in bench_vs_reader.py")
    names = [name for name in columns if name in known]
    insert = f'insert into items ({", ".join(names)}) values ({", ".join("?" * len(names))})'
    # Stories outside the days the digest merges are stored as the fetch cycle leaves them (one
    # story per item here); the digest's own first run merges the days around D.
    story_ok = set(story_columns) == {"item_id", "story_id", "rule", "updated_at"}
    window = (day - timedelta(days=5), day + timedelta(days=3))
    # Full-text indexing row by row (triggers) is five times slower than one rebuild at the end.
    triggers = conn.execute("select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'items'").fetchall()
    indexes = [name for name, sql in conn.execute("select name, sql from sqlite_master where type = 'table'")
               if re.search(r"""content\s*=\s*[\["']?items\b""", sql or "", re.I)]
    conn.execute("begin")
    for name, _ in triggers:
        conn.execute(f'drop trigger "{name}"')
    batch, stories = [], []
    for item_day, row in generated_rows(count, day + timedelta(days=1), title_words()):
        batch.append([row[name] for name in names])
        if story_ok and not window[0] <= item_day <= window[1]:
            stories.append((row["id"], "s" + row["id"][:16], "alone", row["first_seen_at"]))
        if len(batch) >= 20_000:
            conn.executemany(insert, batch)
            if stories:
                conn.executemany("insert into story_items values (?, ?, ?, ?)", stories)
            batch.clear()
            stories.clear()
    conn.executemany(insert, batch)
    if stories:
        conn.executemany("insert into story_items values (?, ?, ?, ?)", stories)
    for _, sql in triggers:
        conn.execute(sql)
    for name in indexes:
        conn.execute(f"""insert into "{name}"("{name}") values ('rebuild')""")
    conn.execute("commit")
    conn.execute("pragma journal_mode = wal")
    conn.close()
    tmp.rename(db)
    info.update(built=True, build_seconds=time.perf_counter() - started, story_items_filled=story_ok)
    return db, config, info


def digest_row(args, cache: Path, help_time: dict) -> dict:
    day = date(2026, 9, 29)
    db, config, info = build_digest_db(cache, args.digest_items, day)
    cmd = trendbot_cmd("--config", str(config), "--db", str(db), "digest", "--date", day.isoformat(), "--out", "-")
    started = time.perf_counter()
    first = measure(cmd, env=trendbot_env(), sample=False, cwd=config.parent)
    if first.returncode:
        raise SystemExit(f"digest failed:\n{first.stderr[-2000:]}")
    info["first_run_seconds"] = time.perf_counter() - started  # merges the days around D once
    info["stories"] = first.stdout.count("\n- ")
    timing = median_wall(cmd, args.runs, env=trendbot_env(), cwd=config.parent)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    info["items"] = conn.execute("select count(*) from items").fetchone()[0]
    info["items_on_day"] = conn.execute("select count(*) from items where day = ?", [day.isoformat()]).fetchone()[0]
    conn.close()
    info["megabytes"] = db.stat().st_size / 1e6
    return {**info, "day": day.isoformat(), "time": timing, "ratio_help": timing["median"] / help_time["median"]}


# -- merge ---------------------------------------------------------------------------------

MERGE_LINE = re.compile(r"^(?P<label>partition|merge_into_store)\b.*?: (?P<items>[\d,]+) items in (?P<s>[\d.]+)s = "
                        r"(?P<rate>[\d,]+) items/s, peak RSS of the process so far (?P<mib>\d+) MiB", re.M)


def merge_row(args) -> dict:
    cmd = [sys.executable, str(HERE / "bench_merge.py"), "--items", str(args.merge_items), "--store"]
    run = measure(cmd, env=trendbot_env())
    found = {m["label"]: {"items": int(m["items"].replace(",", "")), "seconds": float(m["s"]),
                          "rate": int(m["rate"].replace(",", "")), "peak_mib": int(m["mib"])}
             for m in MERGE_LINE.finditer(run.stdout)}
    return {"returncode": run.returncode, "wall": run.wall, "peak": run.peak, "output": run.stdout.strip(),
            "stderr": run.stderr[-2000:] if run.returncode else None, **found}


# -- the table -----------------------------------------------------------------------------

def spread(values: list[float], unit: str = "s", digits: int = 1) -> str:
    if not values:
        return "—"
    mid = statistics.median(values)
    text = f"{mid:,.{digits}f} {unit}"
    low, high = f"{min(values):,.{digits}f}", f"{max(values):,.{digits}f}"
    if low != high:
        text += f" ({low}–{high})"
    return text


def ms(value: float) -> str:
    return f"{value * 1000:,.0f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def table(args, fetch: dict, starts: dict, digest: dict | None, merge: dict | None) -> list[list[str]]:
    n = args.feeds
    naive, readers, bots = fetch.get("naive"), fetch["reader"], fetch["trendbot"]
    floor = math.ceil(n / args.workers) * args.delay
    col = lambda runs, mode, key: [r[mode][key] for r in runs]  # noqa: E731
    rows = [["work", "naive `feedparser.parse` loop", f"reader 3.26 (`update_feeds`, {args.workers} workers)",
             "trendbot", "ratio", "goal"]]

    def entries_note(run: dict, want: int) -> str:
        return "" if run.get("entries") == want else f", **{run.get('entries')} of {want} entries**"

    bot_cold = col(bots, "cold", "wall")
    reader_cold = col(readers, "cold", "wall")
    failed = [r["cold"]["returncode"] for r in bots if r["cold"]["returncode"]]
    cold_cell = spread(bot_cold) + entries_note(bots[0]["cold"], 50 * n) + (
        f", **exit {failed[0]}**" if failed else "")
    if readers:
        ratio = statistics.median(bot_cold) / statistics.median(reader_cold)
        rows.append([f"cold fetch, {n} feeds", spread([naive["wall"]]) if naive else "—",
                     spread(reader_cold) + entries_note(readers[0]["cold"], 50 * n), cold_cell,
                     f"{ratio:.2f}× reader", f"≤ {GOALS['cold']}× reader: {verdict(ratio <= GOALS['cold'])}"])
    else:
        ratio = statistics.median(bot_cold) / naive["wall"] if naive else float("nan")
        rows.append([f"cold fetch, {n} feeds", spread([naive["wall"]]) if naive else "—", "—", cold_cell,
                     f"{ratio:.2f}× naive" if naive else "—", f"≤ {GOALS['cold']}× reader: (no reader)"])
    bot_cpu, reader_cpu = col(bots, "cold", "cpu"), col(readers, "cold", "cpu")
    rows.append([f"CPU time (user+sys), cold {n} feeds", spread([naive["cpu"]]) if naive else "—",
                 spread(reader_cpu) if readers else "—", spread(bot_cpu),
                 f"{statistics.median(bot_cpu) / statistics.median(reader_cpu):.2f}× reader" if readers else "—", "—"])

    def refetch_cell(run: dict) -> str:
        server = run["server"]
        text = f"{server['conditional']}/{server['requests']} conditional, {server.get('304', 0)} answered 304"
        written = run.get("rows_written", {})
        if "items" in written or run["kind"] == "trendbot":
            text += f", {written.get('items', 0)} items written"
        others = {k: v for k, v in written.items() if k != "items"}
        text += ", " + (", ".join(f"{v} {k} rows" for k, v in others.items()) if others else "no other row") + " written"
        if "file_written" in run:
            text += ", database file " + ("written" if run["file_written"] else "untouched")
        return text

    for runs, kind in ((readers, "reader"), (bots, "trendbot")):
        for r in runs:
            r["refetch"]["kind"] = kind
    bot_re = col(bots, "refetch", "wall")
    ratio_floor = statistics.median(bot_re) / floor
    bot_last = bots[-1]["refetch"]
    no_write = not bot_last.get("file_written") and not bot_last.get("rows_written")
    rows.append([f"re-fetch, {n} unchanged", "same as cold (sends no validators)",
                 spread(col(readers, "refetch", "wall"), digits=2) + "; " + refetch_cell(readers[-1]["refetch"])
                 if readers else "—",
                 spread(bot_re, digits=2) + "; " + refetch_cell(bot_last),
                 f"{ratio_floor:.2f}× the network floor ({floor:.2f} s)"
                 + (f"; reader {statistics.median(col(readers, 'refetch', 'wall')) / floor:.2f}×" if readers else ""),
                 f"≤ {GOALS['refetch_floor']}× floor: {verdict(ratio_floor <= GOALS['refetch_floor'])}; "
                 f"no write at all: {verdict(no_write)}"])

    def mib(values: list[int]) -> str:
        return spread([v / MIB for v in values], "MiB", 0)

    bot_rss, reader_rss = col(bots, "cold", "peak"), col(readers, "cold", "peak")
    procs = max(col(bots, "cold", "processes"))
    rss_mib = statistics.median(bot_rss) / MIB
    rows.append([f"peak RSS, cold {n} feeds", mib([naive["peak"]]) if naive else "—",
                 mib(reader_rss) if readers else "—",
                 mib(bot_rss) + (f" ({procs} processes, PSS summed)" if procs > 1 else ""),
                 f"{statistics.median(bot_rss) / statistics.median(reader_rss):.2f}× reader" if readers else "—",
                 f"≤ {GOALS['rss_mib']} MiB: {verdict(rss_mib <= GOALS['rss_mib'])}"])
    passed = starts["python_pass"]["median"]
    no_src = starts["trendbot_fetch_no_sources"]["median"]
    rows.append(["`trendbot fetch` with no sources", f"`python -c pass` {ms(passed)}",
                 f"`import reader` {ms(starts['import_reader']['median'])}" if "import_reader" in starts else "—",
                 ms(no_src), f"{no_src / passed:.1f}× `python -c pass`",
                 f"≤ {GOALS['no_sources']:g}× `python -c pass`: {verdict(no_src / passed <= GOALS['no_sources'])}"])
    help_t = starts["trendbot_help"]["median"]
    rows.append(["`trendbot --help`", "—", "—", ms(help_t), f"{help_t / passed:.1f}× `python -c pass`", "—"])
    if digest:
        rows.append([f"`digest --date D` on {digest['items']:,} items ({digest['items_on_day']} on D)", "—", "—",
                     f"{ms(digest['time']['median'])} ({ms(digest['time']['min'])}–{ms(digest['time']['max'])})",
                     f"{digest['ratio_help']:.1f}× `--help`",
                     f"≤ {GOALS['digest']}× `--help`: {verdict(digest['ratio_help'] <= GOALS['digest'])}"])
    if merge:
        part, store = merge.get("partition"), merge.get("merge_into_store")
        if part and store:
            peak = max(part["peak_mib"], store["peak_mib"]) * MIB
            ok = part["seconds"] <= GOALS["merge_s"] and store["seconds"] <= GOALS["merge_s"] and peak <= GOALS["merge_bytes"]
            rows.append([f"merge {args.merge_items:,} items", "—", "—",
                         f"{part['rate']:,} items/s partition ({part['seconds']:.1f} s), {store['rate']:,} items/s "
                         f"through the store ({store['seconds']:.1f} s), {peak / MIB:,.0f} MiB",
                         f"{part['seconds'] / GOALS['merge_s']:.1f}× / {store['seconds'] / GOALS['merge_s']:.1f}× "
                         f"the {GOALS['merge_s']:g} s goal",
                         f"≤ {GOALS['merge_s']:g} s, ≤ {GOALS['merge_bytes'] / 1e6:.0f} MB: {verdict(ok)}"])
        else:
            rows.append([f"merge {args.merge_items:,} items", "—", "—",
                         f"bench_merge.py exit {merge['returncode']}, output not understood", "—", "—"])
    return rows


def markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def machine() -> dict:
    def first(path: str, prefix: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    ram = first("/proc/meminfo", "MemTotal")
    return {"cpu": first("/proc/cpuinfo", "model name"), "cores": os.cpu_count(),
            "ram_gib": round(int(ram.split()[0]) / 2**20, 1) if ram != "?" else None,
            "python": platform.python_version(), "os": platform.platform(),
            "sqlite": sqlite3.sqlite_version, "load": os.getloadavg()}


# -- main ----------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, help="feeds served and fetched (200; --quick 40)")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds added to every answer (0.3)")
    parser.add_argument("--feed-bytes", type=int, default=98_000, help="about this many bytes per feed")
    parser.add_argument("--workers", type=int, default=16, help="reader's workers and trendbot's concurrency (16)")
    parser.add_argument("--rounds", type=int, default=1, help="reader/trendbot fetch rounds; figures are medians")
    parser.add_argument("--runs", type=int, help="runs per start-up and digest figure, median (7; --quick 3)")
    parser.add_argument("--digest-items", type=int, help="items in the digest database (1,000,000; --quick 100,000)")
    parser.add_argument("--merge-items", type=int, help="items for bench_merge.py (100,000; --quick 20,000)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast check")
    parser.add_argument("--skip-reader", action="store_true", help="leave reader out (no venv needed)")
    parser.add_argument("--skip-naive", action="store_true", help="leave the naive loop out (it takes N x delay)")
    parser.add_argument("--json", metavar="FILE", help="also save every figure as JSON")
    parser.add_argument("--py-spy", metavar="FILE",
                        help="profile one more cold trendbot fetch with py-spy (.txt raw, summed up; .json speedscope)")
    parser.add_argument("--cache", type=Path, default=HERE / ".cache", help="reader's venv and the digest databases")
    args = parser.parse_args(argv)
    quick = args.quick
    args.feeds = args.feeds or (40 if quick else 200)
    args.runs = args.runs or (3 if quick else 7)
    args.digest_items = args.digest_items or (100_000 if quick else 1_000_000)
    args.merge_items = args.merge_items or (20_000 if quick else 100_000)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    reader_py = None if args.skip_reader else reader_python(args.cache)
    started = time.perf_counter()
    about = machine()
    with tempfile.TemporaryDirectory(prefix="bench-vs-reader-") as folder:
        work = Path(folder)
        print("start-up times ...", file=sys.stderr)
        empty = work / "empty"
        (empty / "sources").mkdir(parents=True)
        (empty / "trendbot.toml").write_text('db = "trendbot.db"\n', encoding="utf-8")
        env = trendbot_env()
        # trendbot's byte code as an installed package has it (an editable install under
        # PYTHONDONTWRITEBYTECODE would compile every module on every start; reader's wheel is compiled)
        compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "trendbot"), quiet=1)
        starts = {"python_pass": median_wall([sys.executable, "-c", "pass"], args.runs, env=env),
                  "trendbot_help": median_wall(trendbot_cmd("--help"), args.runs, env=env),
                  "trendbot_fetch_no_sources": median_wall(
                      trendbot_cmd("--config", str(empty / "trendbot.toml"), "fetch"), args.runs, expect=2, env=env,
                      cwd=empty)}  # exit 2: no sources to fetch
        if reader_py:
            starts["import_reader"] = median_wall([str(reader_py), "-c", "import reader"], args.runs, env=reader_env())
        fetch = fetch_rows(args, work, reader_py)
        print("digest ...", file=sys.stderr)
        digest = digest_row(args, args.cache, starts["trendbot_help"])
        print("merge (bench_merge.py) ...", file=sys.stderr)
        merge = merge_row(args)
    rows = table(args, fetch, starts, digest, merge)
    command = shlex.join(["python", "benchmarks/bench_vs_reader.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"\nloopback, {args.delay * 1000:.0f} ms per answer, {args.feeds} feeds of 50 entries "
          f"(~{args.feed_bytes / 1000:.0f} kB), each tool its own process, server in another; "
          f"{args.rounds} round(s), start-ups median of {args.runs}\n")
    print(markdown(rows))
    print()
    print(f"machine: {about['cpu']}, {about['cores']} cores, {about['ram_gib']} GiB RAM; Python {about['python']}, "
          f"SQLite {about['sqlite']}; {about['os']}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in about['load'])}, "
          f"at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; whole run {time.perf_counter() - started:.0f} s")
    print(f"command: {command}")
    if digest.get("built"):
        print(f"(the digest database was built this run in {digest['build_seconds']:.0f} s)")
    profile = fetch.get("profile")
    if profile and profile.get("top"):
        top = profile["top"]
        print(f"\npy-spy, cold fetch ({top['samples']:,} samples) -> {profile['file']}")
        for title, key in (("in the stack", "inclusive"), ("on top (self)", "self")):
            print(f"  {title}:")
            for frame, share in top[key]:
                print(f"    {share:5.1f} %  {frame}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"command": command, "machine": about, "args": {k: str(v) for k, v in vars(args).items()},
             "starts": starts, "fetch": fetch, "digest": digest, "merge": merge, "table": rows},
            indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
