"""The person's real week, end to end through the real CLI: no note ever lost (a lost database
before the first merge, after one merge and after several), a new day heading where the
person's days are (their `## 부캠 강의` and `## 개인학습` are parts of a day), nothing written when
nothing changed, a past day that does not change because the clock moved, an editor's save
during a publish, and a publish killed between the post and its record.

The post is tests/data/publish/boostcamp_week4_parts.md (DESIGN.md's layout, the parts of a day as
second-level headings, days 17 and 19 not written yet); the stories are the real GeekNews feed
moved to the day under test (test_weekly_post.feed_on), served from 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import read_data
from test_publish import block_of, headings, make_repo
from test_publish_crash import wait_for_file
from test_weekly_post import BLOG, feed_on
from trendbot.config import load_config
from trendbot.jobs import publish_day
from trendbot.sections import new_heading_at
from trendbot.store import Store

POST = "_posts/2024-08-24-boostcamp-week4.md"
D16, D17, D18, D19 = date(2024, 8, 26), date(2024, 8, 27), date(2024, 8, 28), date(2024, 8, 29)


@pytest.fixture
def week(project, httpserver):
    repo = make_repo(project.root, {POST: read_data("publish/boostcamp_week4_parts.md")})
    project.write_config(blog=BLOG)
    project.add_source("geeknews", kind="feed", url=httpserver.url_for("/rss/news"))
    return repo / POST


def serve(httpserver, day: date, renamed: str = "") -> None:
    """The day's feed; `renamed` prefixes the newest topic's title, so the update has news."""
    body = feed_on(day)
    if renamed:
        body = body.replace(b"<![CDATA[", f"<![CDATA[{renamed} ".encode(), 1)
    httpserver.clear()
    httpserver.expect_request("/rss/news").respond_with_data(body, content_type="application/atom+xml")


def publish(run, httpserver, day: date, renamed: str = "", *args: str):
    serve(httpserver, day, renamed)
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", day.isoformat(), "--publish", *args)
    assert result.exit_code == 0, result.stderr
    return result


def story_lines(block: str) -> list[str]:
    return [line for line in block.split("\n") if line.startswith("- [")]


def address(line: str) -> str:
    return re.search(r"\]\((https?://[^)]+)\)", line).group(1)


def lose_database(project) -> None:
    """What an evicted Actions cache, a reinstall or a wrong --db does: no database at all."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(project.db_path) + suffix).unlink(missing_ok=True)


# -- where a day heading goes --------------------------------------------------------------------

def test_a_missing_day_heading_goes_after_the_whole_previous_day(run, httpserver, week):
    original = week.read_text(encoding="utf-8")
    publish(run, httpserver, D17)
    publish(run, httpserver, D19)
    text = week.read_text(encoding="utf-8")
    assert headings(text) == ["## 토요일", "## 일요일", "## 16일차", "## 부캠 강의", "## 개인학습", "## 17일차",
                              "## 18일차", "## 부캠 강의", "## 19일차", "## 20일차", "## 부캠 강의", "## 4주차 후기"]
    # day 16 keeps its lectures and its own study; day 18 its lecture
    assert "## 개인학습\n\n- 역전파를 손으로 유도해 봤다.\n\n## 17일차\n\n<!-- trendbot:begin 2024-08-27" in text
    assert "- 어텐션: $\\mathrm{softmax}(QK^T/\\sqrt{d_k})V$\n\n## 19일차\n\n<!-- trendbot:begin 2024-08-29" in text
    # nothing of the person's moved: taking out what trendbot added gives the post back
    for day in (D17, D19):
        text = text.replace(f"## {16 + (day - D16).days}일차\n\n" + block_of(text, day.isoformat()).group() + "\n", "")
    assert text == original


def heading_map(lines: list[str]) -> dict[int, tuple[int, str]]:
    return {i: (len(line.split(" ")[0]), line.split(" ", 1)[1]) for i, line in enumerate(lines) if line.startswith("#")}


@pytest.mark.parametrize("post, day, expected", [
    # the previous day is the last one: before the week's heading
    (["## 16일차", "## 부캠 강의", "x", "## 4주차 후기", "y"], D17, 3),
    # no earlier day: before the next day's heading
    (["## 토요일", "a", "## 18일차", "## 부캠 강의"], D17, 2),
    # no day at all but the week's heading: before it
    (["# 소개", "## 부캠 강의", "## 4주차 후기"], D17, 2),
    # nothing that marks a day: at the end of the post
    (["# 소개", "## 부캠 강의", "z"], D17, 3),
    # a week heading is never part of the previous day
    (["## 16일차", "## 4주차 후기", "## 부캠 강의"], D17, 1),
])
def test_the_day_heading_rule(post, day, expected):
    days = {(2, "16일차"): D16, (2, "18일차"): D18, (2, "토요일"): date(2024, 8, 24)}
    bounds = set(days) | {(2, "4주차 후기")}
    assert new_heading_at(heading_map(post), len(post), day, days, bounds) == expected


# -- a lost database ------------------------------------------------------------------------------

def annotate(post: Path, day: date, n: int) -> tuple[list[str], set[str]]:
    """The person's evening: rewrite one title, a note under another line, delete two lines.
    Returns the lines they wrote and the addresses they deleted."""
    text = post.read_text(encoding="utf-8")
    block = block_of(text, day.isoformat()).group()
    lines = block.split("\n")
    stories = [i for i, line in enumerate(lines) if line.startswith("- [") and "내 메모" not in line
               and "제목을 고침" not in line]
    rewrite, note, gone = stories[2], stories[1], [stories[-1], stories[-2]]
    lines[rewrite] = f"- [제목을 고침 {n}]({address(lines[rewrite])}) — 내 메모 {n}"
    written = [lines[rewrite], f"  - 질문 {n}: 왜 $O(n)$ 인가?"]
    deleted = {address(lines[i]) for i in gone}
    lines = [line for i, line in enumerate(lines) if i not in gone]  # below the note's line
    lines.insert(note + 1, written[1])
    post.write_text(text.replace(block, "\n".join(lines)), encoding="utf-8")
    return written, deleted


@pytest.mark.parametrize("merges", [0, 1, 3])
def test_a_lost_database_loses_no_note_and_brings_back_no_deleted_story(project, run, httpserver, week, merges):
    publish(run, httpserver, D17)
    mine, deleted = annotate(week, D17, 0)
    for n in range(1, merges + 1):
        project.write_config(digest={"limit": 15 + n})  # one more story each time
        merged = publish(run, httpserver, D17, f"r{n}")
        assert "merged with your edits" in merged.stderr
        more, gone = annotate(week, D17, n)
        mine, deleted = mine + more, deleted | gone
    before = story_lines(block_of(week.read_text(encoding="utf-8"), D17.isoformat()).group())
    lose_database(project)
    project.write_config(digest={"limit": 15 + merges + 1})  # and one story the block never had
    result = publish(run, httpserver, D17, f"r{merges + 1}")
    assert "no record of trendbot's last version of this block (a new database?): your block kept as it is, " \
           "nothing refreshed, 1 story added" in result.stderr
    block = block_of(week.read_text(encoding="utf-8"), D17.isoformat()).group()
    after = story_lines(block)
    assert after[:len(before)] == before  # every line as the person left it, in their order
    assert len(after) == len(before) + 1
    assert all(line in block for line in mine)
    assert not {address(line) for line in after} & deleted
    # and once the database knows the block again, the day is merged as before
    again = publish(run, httpserver, D17, f"r{merges + 2}")
    assert "merged with your edits" in again.stderr
    block = block_of(week.read_text(encoding="utf-8"), D17.isoformat()).group()
    assert all(line in block for line in mine) and not {address(line) for line in story_lines(block)} & deleted


def test_without_the_database_an_untouched_block_is_simply_updated(project, run, httpserver, week):
    publish(run, httpserver, D17)
    lose_database(project)
    result = publish(run, httpserver, D17, "r1")
    assert "updated with the 2024-08-27 section" in result.stderr and "no record" not in result.stderr
    assert "r1 " in block_of(week.read_text(encoding="utf-8"), D17.isoformat()).group()


# -- nothing new, nothing written --------------------------------------------------------------

def test_publish_edit_publish_with_nothing_new_leaves_the_file_alone(run, httpserver, week):
    publish(run, httpserver, D17)
    annotate(week, D17, 0)
    edited, mtime = week.read_bytes(), week.stat().st_mtime_ns
    for _ in range(2):
        result = publish(run, httpserver, D17)
        assert "the 2024-08-27 section is already up to date" in result.stderr
        assert week.read_bytes() == edited and week.stat().st_mtime_ns == mtime


def test_a_past_day_gets_no_staleness_and_does_not_change_a_day_later(project, run, httpserver, week):
    """The source delivered the day's items: the day's section says nothing of staleness,
    however long after the day it is published (backfill, settle, a week's re-publish)."""
    serve(httpserver, D17)
    assert run("fetch").exit_code == 0
    config = load_config()
    later = datetime.now(timezone.utc) + timedelta(days=10)  # the source has brought nothing since
    with Store(config.db_path) as store:
        first = publish_day(config, store, D17, later).result
        text = week.read_text(encoding="utf-8")
        second = publish_day(config, store, D17, later + timedelta(days=1)).result
    assert first.status == "written" and second.status == "unchanged"
    assert "업데이트 없음" not in text and week.read_text(encoding="utf-8") == text


# -- between reading the post and renaming the new one ------------------------------------------

def trendbot(project, *args: str, env: dict) -> subprocess.Popen:
    env = dict(os.environ, TRENDBOT_CONFIG=str(project.root / "trendbot.toml"), **env)
    return subprocess.Popen([sys.executable, "-m", "trendbot", *args], cwd=project.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_an_editors_save_during_a_publish_is_merged_not_lost(project, run, httpserver, week):
    publish(run, httpserver, D17)
    serve(httpserver, D17, "r1")
    assert run("fetch").exit_code == 0
    marker = project.root / "paused"
    proc = trendbot(project, "digest", "--date", D17.isoformat(), "--publish",
                    env={"TRENDBOT_TEST_PAUSE": f"tmp-written:{marker}"})
    wait_for_file(marker, proc)
    saved = week.read_text(encoding="utf-8").replace("- 역전파를 손으로 유도해 봤다.\n",
                                                     "- 역전파를 손으로 유도해 봤다.\n\n저장한 문단.\n")
    week.write_text(saved, encoding="utf-8")  # the editor saves while trendbot is writing
    marker.unlink()
    Path(f"{marker}.go").touch()
    wait_for_file(marker, proc)  # it read the post again and is about to write once more
    marker.unlink()
    Path(f"{marker}.go").touch()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    text = week.read_text(encoding="utf-8")
    assert "저장한 문단." in text and "r1 " in block_of(text, D17.isoformat()).group()


def test_a_publish_killed_before_its_record_never_freezes_the_day(project, run, httpserver, week):
    publish(run, httpserver, D17)
    serve(httpserver, D17, "r1")
    assert run("fetch").exit_code == 0
    marker = project.root / "renamed"
    proc = trendbot(project, "digest", "--date", D17.isoformat(), "--publish",
                    env={"TRENDBOT_TEST_PAUSE": f"renamed:{marker}"})
    wait_for_file(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    written = week.read_text(encoding="utf-8")
    assert "r1 " in written  # the post was written, its record was not
    mine, _ = annotate(week, D17, 0)
    result = publish(run, httpserver, D17, "r2")
    assert "merged with your edits" in result.stderr and "refreshed" in result.stderr
    block = block_of(week.read_text(encoding="utf-8"), D17.isoformat()).group()
    assert "r2 " in block and all(line in block for line in mine)


def test_a_typo_in_the_post_glob_says_it_made_a_second_post_for_the_week(project, run, httpserver, week):
    project.write_config(blog={**BLOG, "post": "_posts/*-bootcamp-week{week_index}.md",
                               "new_post": "_posts/{week_start:%Y-%m-%d}-bootcamp-week{week_index}.md"})
    result = publish(run, httpserver, D17)
    assert ("blog/_posts/2024-08-24-bootcamp-week4.md: created with the 2024-08-27 section (15 stories); note: "
            f"blog/{POST} already holds this week's days: a typo in [blog] post?") in result.stderr
    assert week.read_bytes() == read_data("publish/boostcamp_week4_parts.md")


HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


def test_a_database_locked_between_the_post_and_its_record_says_the_post_was_written(
        project, run, httpserver, week, monkeypatch):
    """Another process takes the database's write lock right after the post is renamed into
    place: the publish says the post was written and not recorded, and the next publish
    still updates the day (it knows trendbot's own text by the begin marker)."""
    publish(run, httpserver, D17)
    serve(httpserver, D17, "r1")
    assert run("fetch").exit_code == 0
    marker = project.root / "renamed"
    monkeypatch.setenv("TRENDBOT_TEST_PAUSE", f"renamed:{marker}")
    config = load_config()
    outcome: dict = {}

    def publish_now() -> None:
        with Store(config.db_path, busy_timeout=0.2) as store:
            try:
                publish_day(config, store, D17, datetime.now(timezone.utc))
            except Exception as exc:  # what the CLI would print
                outcome["error"] = str(exc)

    worker = threading.Thread(target=publish_now)
    worker.start()
    holder = None
    try:
        while not marker.exists():
            assert worker.is_alive(), outcome
            time.sleep(0.01)
        holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(config.db_path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline() == "locked\n"
        Path(f"{marker}.go").touch()
        worker.join(timeout=60)
    finally:
        if holder is not None:
            holder.communicate("")
    monkeypatch.delenv("TRENDBOT_TEST_PAUSE")
    assert "updated with the 2024-08-27 section" in outcome["error"]
    assert "but the database could not record it" in outcome["error"] and "nothing written" not in outcome["error"].split(
        "could not record it")[0]
    assert "r1 " in week.read_text(encoding="utf-8")
    mine, _ = annotate(week, D17, 0)
    result = publish(run, httpserver, D17, "r2")
    assert "merged with your edits" in result.stderr and "refreshed" in result.stderr
    block = block_of(week.read_text(encoding="utf-8"), D17.isoformat()).group()
    assert "r2 " in block and all(line in block for line in mine)
