"""Publishing killed with SIGKILL: the post is always either exactly as it was before or exactly
as a complete run leaves it, never partial (temporary file + rename).

The kill lands at a known point of the write, not at a random time: the test-only hook
`TRENDBOT_TEST_PAUSE=POINT:FILE` (trendbot/pause.py, `pause_point`) makes the process create
FILE when it reaches POINT and stop there; the test waits for FILE, then kills. The points are
the temporary file half written, the temporary file complete but not yet renamed, and the rename
done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import read_data

DAY = "2026-09-29"
# point -> what the post must hold after a kill there
POINTS = {"tmp-partial": "before", "tmp-written": "before", "renamed": "after"}


def trendbot(project, *args: str, env: dict | None = None, wait: bool = True):
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "trendbot", *args], cwd=project.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if wait:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    return proc


def wait_for_file(marker: Path, proc: subprocess.Popen, limit: float = 120.0) -> None:
    """Until the process says it reached the point (the file exists); fail if it ends first."""
    deadline = time.monotonic() + limit
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"publish ended (status {proc.returncode}) before reaching the point: {err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"publish did not reach the point within {limit:g}s")
        time.sleep(0.01)


@pytest.fixture
def blog(project, httpserver):
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
    return post, version


def test_killed_publish_leaves_the_post_before_or_after(project, blog):
    post, version = blog
    landed = []
    for round_, (point, expected) in enumerate([*POINTS.items(), *POINTS.items()]):
        version["n"] = round_
        trendbot(project, "fetch")
        before = post.read_bytes()
        marker = project.root / f"reached-{round_}"
        proc = trendbot(project, "digest", "--date", DAY, "--publish",
                        env={"TRENDBOT_TEST_PAUSE": f"{point}:{marker}"}, wait=False)
        wait_for_file(marker, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        killed = post.read_bytes()
        trendbot(project, "digest", "--date", DAY, "--publish")
        after = post.read_bytes()
        assert before != after
        assert killed in (before, after), f"round {round_} ({point}): partial post after SIGKILL"
        assert killed == (before if expected == "before" else after), f"round {round_} ({point})"
        landed.append((point, "before" if killed == before else "after"))
        # the complete run cleared the killed run's temporary file
        assert sorted(p.name for p in post.parent.iterdir()) == [post.name]
    assert b"r5 " in post.read_bytes()
    assert {side for _, side in landed} == {"before", "after"}


def test_pause_hook_does_nothing_unless_asked(project, blog):
    post, _ = blog
    trendbot(project, "fetch")
    # another point's name, or a malformed value, never stops the run
    trendbot(project, "digest", "--date", DAY, "--publish", env={"TRENDBOT_TEST_PAUSE": "nowhere:x"})
    trendbot(project, "digest", "--date", DAY, "--publish", "--force", env={"TRENDBOT_TEST_PAUSE": "renamed"})
    assert b"trendbot:begin " + DAY.encode() in post.read_bytes()
