"""Two versions of the merge, timed in fresh processes, interleaved.

The same code's time moves by half on a shared virtual machine from one minute to the next, so
one run of each version says little: this runs `bench_merge.py`'s first case (`partition` of
--items generated items) for each git revision in turn, each run its own process (a rebuild is
one cold process too), alternating which goes first, and prints every time, the medians, the
fastest runs, how many of the pairs the second revision won, and each pair's ratio (the second's
time over the first's). A goal set as a time on another machine ("7.1 s today, 2 s at most") is a
ratio between two versions, and a pair's ratio stays when the host runs both slower or faster.

    python benchmarks/compare_merge.py 27fd887 HEAD [--runs 8] [--items 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = """
import sys, time
from bench_merge import generate
from trendbot.merge import partition
import trendbot
assert trendbot.__file__.startswith(sys.argv[1]), trendbot.__file__
items = generate(int(sys.argv[2]), 100)
started = time.perf_counter()
stories = {a.story_id for a in partition(items).values()}
print(time.perf_counter() - started, len(stories))
"""


def checkout(revision: str, folder: Path) -> Path:
    """The revision's `trendbot/` and `benchmarks/`, unpacked into `folder`."""
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "trendbot", "benchmarks"],
                             capture_output=True)
    if archive.returncode != 0:
        sys.exit(f"{revision!r} is not a revision of {ROOT}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def one_run(folder: Path, items: int) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{folder / 'benchmarks'}"}
    done = subprocess.run([sys.executable, "-c", ONE_RUN, str(folder), str(items)], env=env, cwd=folder,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the run of {folder.name} failed:\n{done.stderr[-2000:]}")
    seconds, stories = done.stdout.split()
    return float(seconds), int(stories)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: python benchmarks/compare_merge.py 27fd887 HEAD --runs 8")
    parser.add_argument("before", help="the git revision to compare against (a commit, a tag, HEAD~3)")
    parser.add_argument("after", help="the git revision compared")
    parser.add_argument("--runs", type=int, default=8, help="runs of each revision (default 8)")
    parser.add_argument("--items", type=int, default=100_000, help="items partitioned at once (default 100,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folders = [checkout(args.before, Path(temp) / "before"), checkout(args.after, Path(temp) / "after")]
        times: list[list[float]] = [[], []]
        stories: list[set[int]] = [set(), set()]
        for run in range(args.runs):
            for side in ((0, 1) if run % 2 == 0 else (1, 0)):
                seconds, count = one_run(folders[side], args.items)
                times[side].append(seconds)
                stories[side].add(count)
                print(f"run {run + 1}, {(args.before, args.after)[side]}: {seconds:.2f} s", flush=True)
    for side, revision in enumerate((args.before, args.after)):
        print(f"{revision}: median {statistics.median(times[side]):.2f} s, fastest {min(times[side]):.2f} s, "
              f"stories {sorted(stories[side])}")
    won = sum(after < before for before, after in zip(*times))
    ratios = [after / before for before, after in zip(*times)]  # (a pair ran within a minute: the same host)
    print(f"{args.after} faster in {won} of {args.runs} pairs; median ratio "
          f"{statistics.median(times[1]) / statistics.median(times[0]):.2f}, "
          f"per pair {min(ratios):.2f} to {max(ratios):.2f}")


if __name__ == "__main__":
    main()
