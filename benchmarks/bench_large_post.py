"""Peak memory and time of `trendbot digest --publish` into a large post, as its own process,
side by side with the same publish into a small post (what the interpreter and the imports cost).

The post is a weekly post of DESIGN.md's layout whose 16일차 holds SIZE MB of the person's notes
(Korean and formulas); the section is the real GeekNews feed of tests/data/publish, served from
127.0.0.1 and fetched first. Goal: the large post's publish costs under 4× the post's size above
the small post's peak (the post read, its new text, the bytes written: no diff, no per-line
objects).

    python benchmarks/bench_large_post.py            # a 50 MB post
    python benchmarks/bench_large_post.py --mb 5
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

ROOT = Path(__file__).resolve().parent.parent
FEED = (ROOT / "tests" / "data" / "publish" / "gn_atom_2026-09-29.xml").read_bytes()
DAY = "2026-09-29"
NOTE = "- 오늘 공부한 내용을 정리한 줄: 어텐션 $\\mathrm{softmax}(QK^T/\\sqrt{d_k})V$ 와 \\(O(n^2)\\) 비용\n"


def serve() -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/rss/news"


def project(root: Path, url: str, mb: float) -> Path:
    """A trendbot folder and a blog whose week post holds `mb` MB of notes; the feed fetched."""
    (root / "sources").mkdir(parents=True)
    (root / "sources" / "geeknews.toml").write_text(f'kind = "feed"\nurl = "{url}"\n', encoding="utf-8")
    (root / "trendbot.toml").write_text(
        '[blog]\nrepo = "blog"\npost = "_posts/2026-09-26-week.md"\nday_heading = "## {day_index}일차"\n'
        'first_day = 2026-09-04\nweek_starts = "saturday"\n', encoding="utf-8")
    posts = root / "blog" / "_posts"
    posts.mkdir(parents=True)
    notes = NOTE * max(1, int(mb * 1e6) // len(NOTE.encode("utf-8")))
    post = posts / "2026-09-26-week.md"
    post.write_text(f"---\nlayout: post\nuse_math: true\n---\n\n## 16일차\n\n{notes}\n## 18일차\n\n끝\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "trendbot", "fetch"], cwd=root, check=True, capture_output=True,
                   env=dict(os.environ, TRENDBOT_CONFIG=str(root / "trendbot.toml")))
    return post


def publish(root: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one `trendbot digest --date D --publish`."""
    env = dict(os.environ, TRENDBOT_CONFIG=str(root / "trendbot.toml"))
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(root)
        os.execve(sys.executable, [sys.executable, "-m", "trendbot", "digest", "--date", DAY, "--publish"], env)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the publish into {root} failed")
    return time.monotonic() - started, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the large post's notes (default 50)")
    args = parser.parse_args()
    server, url = serve()
    with tempfile.TemporaryDirectory() as folder:
        small_post = project(Path(folder) / "small", url, 0.001)
        large_post = project(Path(folder) / "large", url, args.mb)
        size = large_post.stat().st_size
        small = publish(Path(folder) / "small")
        large = publish(Path(folder) / "large")
        assert "trendbot:begin 2026-09-29" in large_post.read_text(encoding="utf-8")
        assert "trendbot:begin 2026-09-29" in small_post.read_text(encoding="utf-8")
    server.shutdown()
    extra = large[1] - small[1]
    print(f"{'post':24} {'wall':>8} {'peak RSS':>10}")
    print(f"{'small (1 kB)':24} {small[0]:7.2f}s {small[1] / 2**20:8.0f} MiB")
    print(f"{f'large ({size / 1e6:.0f} MB)':24} {large[0]:7.2f}s {large[1] / 2**20:8.0f} MiB")
    print(f"large post's cost: {extra / 2**20:.0f} MiB above the small one = {extra / size:.1f}x the post's size "
          f"(goal: under 4x)")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")


if __name__ == "__main__":
    main()
