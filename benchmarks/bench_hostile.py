"""Peak memory and time of `trendbot fetch` against two hostile answers, each as its own process:

- a server sending gzip(gzip(1 GiB of zeros)) with `Content-Encoding: gzip, gzip` (five sources);
- a JSON Feed whose item holds `<div>` x 200,000 (1 MB of nested markup).

Targets: under 300 MB peak RSS and under 5 s for each.

    python benchmarks/bench_hostile.py
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from faults import FaultServer, nested_markup  # noqa: E402


def nested_feed_server() -> tuple[ThreadingHTTPServer, str]:
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
        {"id": "deep", "url": "https://blog.example.org/deep", "title": "Deep",
         "content_html": nested_markup(), "date_published": "2026-11-20T03:00:00Z"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/feed+json")
            self.send_header("Content-Length", str(len(feed)))
            self.end_headers()
            self.wfile.write(feed)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/feed.json"


def measure(root: Path, sources: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS bytes) of one `trendbot fetch` over `sources`."""
    for old in (root / "sources").glob("*.toml"):
        old.unlink()
    for name, url in sources.items():
        (root / "sources" / f"{name}.toml").write_text(f'kind = "feed"\nurl = "{url}"\n', encoding="utf-8")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{root / 'trendbot.db'}{suffix}").unlink(missing_ok=True)
    env = dict(os.environ, TRENDBOT_CONFIG=str(root / "trendbot.toml"))
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(root)
        os.execve(sys.executable, [sys.executable, "-m", "trendbot", "fetch"], env)
    _, _, usage = os.wait4(pid, 0)
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main() -> None:
    bomb = FaultServer({}, "gzip_bomb", "/bomb")
    nested, nested_url = nested_feed_server()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "sources").mkdir()
        (root / "trendbot.toml").write_text('[http]\nretries = 0\n', encoding="utf-8")
        rows = [
            ("stacked gzip, 5 sources", measure(root, {f"bomb{n}": f"{bomb.base}/bomb/{n}.xml" for n in range(5)})),
            ("<div> x 200,000 in one item", measure(root, {"nested": nested_url})),
        ]
    bomb.close()
    nested.shutdown()
    print(f"{'case':32} {'wall':>8} {'cpu':>8} {'peak RSS':>10}   target: < 5 s, < 300 MB")
    for name, (wall, cpu, peak) in rows:
        print(f"{name:32} {wall:7.2f}s {cpu:7.2f}s {peak / 2**20:8.0f} MB")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
