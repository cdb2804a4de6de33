"""The side-by-side benchmark still runs end to end against the real CLI and prints its whole
table. Nothing here looks at a time: only that every row is there and that the counts the
benchmark reports (entries stored, conditional answers) are the ones the run produced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="measures processes through /proc")


def table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            rows[cells[0]] = cells
    return rows


def test_quick_run_prints_a_complete_table(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_vs_reader.py"), "--quick", "--skip-reader",
         "--feeds", "3", "--delay", "0.02", "--digest-items", "2000", "--merge-items", "300", "--runs", "1",
         "--cache", str(tmp_path / "cache"), "--json", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # the checkout under test, not an installed copy
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = table_rows(done.stdout)
    assert list(rows) == [
        "work", "cold fetch, 3 feeds", "CPU time (user+sys), cold 3 feeds", "re-fetch, 3 unchanged",
        "peak RSS, cold 3 feeds", "`trendbot fetch` with no sources", "`trendbot --help`",
        "`digest --date D` on 2,000 items (250 on D)", "merge 300 items",
    ]
    assert all(len(cells) == 6 for cells in rows.values()), rows
    naive, reader, trendbot = rows["cold fetch, 3 feeds"][1:4]
    assert reader == "—" and naive.endswith(" s") and trendbot.endswith(" s"), rows["cold fetch, 3 feeds"]
    assert "3/3 conditional, 3 answered 304, 0 items written" in rows["re-fetch, 3 unchanged"][3]
    assert rows["peak RSS, cold 3 feeds"][3].endswith("MiB")
    assert "items/s partition" in rows["merge 300 items"][3]
    assert "machine: " in done.stdout and "command: python benchmarks/bench_vs_reader.py --quick" in done.stdout

    figures = json.loads(out.read_text())
    assert figures["fetch"]["naive"]["entries"] == 150
    cold = figures["fetch"]["trendbot"][0]["cold"]
    assert (cold["returncode"], cold["entries"], cold["server"]["200"]) == (0, 150, 3)
    assert figures["digest"]["items"] == 2000 and figures["digest"]["stories"] > 0
    assert figures["merge"]["partition"]["items"] == 300


def test_the_fetch_cycle_benchmark_runs_every_kind_from_its_recorded_answers(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_fetch.py"), "--delay", "0.005"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FAILED" not in done.stdout, done.stdout
    [stored] = [line for line in done.stdout.splitlines() if line.startswith("items stored per source")]
    counts = {name: int(count) for name, count in (part.rsplit(" ", 1) for part in
              stored.removeprefix("items stored per source").strip().split(", "))}
    assert set(counts) == {"bluesky", "geeknews", "github", "hackernews", "hf-trending", "huggingface", "reddit",
                           "x", "feeds"}, stored
    assert all(count > 0 for count in counts.values()), stored
    assert "0 items re-written" in done.stdout


def test_the_escape_share_counts_the_recorded_titles_and_summaries():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "escape_share.py"), "--show", "0"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:3]}
    for what in ("titles", "summaries"):
        count, before, _, _, now = rows[what][1:6]
        assert int(count) > 50 and int(before) <= int(now) <= int(count), done.stdout


def test_the_large_post_benchmark_publishes_both_posts_and_prints_its_figures():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_large_post.py"), "--mb", "0.3"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "small (1 kB)" in done.stdout and "large (0 MB)" in done.stdout
    assert "x the post's size (goal: under 4x)" in done.stdout and "machine: " in done.stdout


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="compares git revisions of a checkout")
def test_the_merge_comparison_runs_both_revisions_and_finds_the_same_stories():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "compare_merge.py"), "HEAD", "HEAD",
                           "--runs", "2", "--items", "300"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert sum(line.startswith("run ") for line in lines) == 4, done.stdout
    before, after = [line for line in lines if line.startswith("HEAD: median")]
    assert before.split("stories ")[1] == after.split("stories ")[1] != "[]", done.stdout
    assert lines[-1].startswith("HEAD faster in ") and " of 2 pairs" in lines[-1], done.stdout
    low, high = (float(ratio) for ratio in lines[-1].split("per pair ")[1].split(" to "))
    assert 0 < low <= high, done.stdout


def test_the_merge_benchmark_prints_every_case_and_the_goals():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_merge.py"), "--items", "3000", "--feeds", "2"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "partition (all at once)", "worst case, one title (all at once)", "goals (set for 100,000 items)",
        "crowd, 2 feeds serving the same 10 links (feed by feed)"], done.stdout
    assert lines[0].startswith("partition (all at once): 3,000 items in ") and "MiB, " in lines[0]
    assert lines[1].endswith(", 3,000 stories"), lines[1]  # an echoed title joins nothing
    assert lines[2].startswith("goals (set for 100,000 items): one title ") and "x the partition (goal: 3x at most)" in lines[2]
    assert lines[3].endswith(", 10 stories (store writes included)"), lines[3]
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_merge.py"), "--items", "1000", "--feeds", "1",
                           "--title-words", "40"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[1].startswith("worst case, one title of 40 words (all at once): 1,000 items in ")
    assert done.stdout.splitlines()[1].endswith(", 1,000 stories"), done.stdout
