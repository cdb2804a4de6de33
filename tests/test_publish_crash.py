"""Publishing killed with SIGKILL at random moments: the post is always either exactly as it
was before or exactly as a complete run leaves it, never partial (atomic rename)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from werkzeug import Request, Response

from conftest import read_data

DAY = "2026-09-29"


def trendbot(project, *args: str, wait: bool = True):
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"))
    proc = subprocess.Popen([sys.executable, "-m", "trendbot", *args], cwd=project.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    return proc


def test_killed_publish_leaves_the_post_before_or_after(project, httpserver):
    repo = project.root / "blog"
    (repo / "_posts").mkdir(parents=True)
    post = repo / "_posts" / "2026-10-03-boostcamp-week5.md"
    post.write_bytes(read_data("publish/boostcamp_week5.md"))
    project.write_config(blog={"repo": "blog", "post": "_posts/2026-10-03-boostcamp-week5.md",
                               "day_heading": "## {day_index}일차", "first_day": "2026-09-04"})
    feed = read_data("publish/gn_atom_2026-09-29.xml")
    version = {"n": 0}

    def serve(request: Request) -> Response:
        # every round renames the first story, so each publish has something new to write
        body = feed.replace(b"<![CDATA[", f"<![CDATA[r{version['n']} ".encode(), 1)
        return Response(body, content_type="application/atom+xml")

    httpserver.expect_request("/rss/news").respond_with_handler(serve)
    project.add_source("geeknews", kind="feed", url=httpserver.url_for("/rss/news"))
    rng = random.Random(7)
    outcomes = {"before": 0, "after": 0}
    took = 1.0  # how long a whole publish takes here; kills land from 30% to 110% of it
    for round_ in range(10):
        version["n"] = round_
        trendbot(project, "fetch")
        before = post.read_bytes()
        proc = trendbot(project, "digest", "--date", DAY, "--publish", wait=False)
        time.sleep(rng.uniform(0.3, 1.1) * took)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        killed = post.read_bytes()
        started = time.monotonic()
        trendbot(project, "digest", "--date", DAY, "--publish")
        took = time.monotonic() - started
        after = post.read_bytes()
        assert before != after
        assert killed in (before, after), f"round {round_}: partial post after SIGKILL"
        outcomes["before" if killed == before else "after"] += 1
    assert b"r9 " in post.read_bytes()
    assert all(outcomes.values()), f"the kills never landed on both sides: {outcomes}"
