"""The section sits and reads like the person's own, in the weekly post of DESIGN.md's layout
(tests/data/publish/boostcamp_week4.md): their week (Saturday to Friday), their place in the
day (first, under the day heading), their hand-written sections and heading anchors left alone,
no filler, and git and diffs that treat their work as theirs.

The stories come from the real GeekNews feed (tests/data/publish/gn_atom_2026-09-29.xml) with
its dates moved to the day under test, served from 127.0.0.1 and fetched by the real CLI.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import read_data
from test_publish import block_of, git, headings, make_repo
from trendbot.config import BlogConfig
from trendbot.posts import day_fields, day_heading

WEEK4 = "_posts/2024-08-24-boostcamp-week4.md"
WEEK3 = "_posts/2024-08-17-boostcamp-week3.md"
BLOG = {
    "repo": "blog",
    "post": "_posts/*-boostcamp-week{week_index}.md",
    "new_post": "_posts/{week_start:%Y-%m-%d}-boostcamp-week{week_index}.md",
    "front_matter": {"layout": "post", "title": "부스트캠프 {week_index}주차 후기", "use_math": True},
    "day_heading": "## {day_index}일차",
    "first_day": "2024-08-05",
    "week_starts": "saturday",
}
WEEK3_POST = """---
layout: post
title: 부스트캠프 3주차 후기
use_math: true
---

## 토요일

도서관.

## 11일차

### 부캠 강의

- CNN

## 15일차

### 부캠 강의

- 정리

## 3주차 후기

좋았다.
"""


def feed_on(day: date) -> bytes:
    """The recorded GeekNews feed (2026-09-28/29 KST) as if its topics were posted on `day`, under
    topic ids of that day (an item keeps the day it was first stored, so each day needs its own)."""
    body = read_data("publish/gn_atom_2026-09-29.xml").decode("utf-8")
    moved = {"2026-09-29": day.isoformat(), "2026-09-28": (day - timedelta(days=1)).isoformat()}
    body = re.sub(r"2026-09-2[89]", lambda m: moved[m.group()], body)
    return body.replace("topic?id=", f"topic?id={day:%m%d}").encode("utf-8")


@pytest.fixture
def week(project, httpserver):
    """A blog repository holding the week-3 and week-4 posts, and a GeekNews source."""
    repo = make_repo(project.root, {WEEK4: read_data("publish/boostcamp_week4.md"), WEEK3: WEEK3_POST.encode()})
    project.write_config(blog=BLOG)
    project.add_source("geeknews", kind="feed", url=httpserver.url_for("/rss/news"))
    return repo


def serve_day(httpserver, day: date) -> None:
    httpserver.clear()
    httpserver.expect_request("/rss/news").respond_with_data(feed_on(day), content_type="application/atom+xml")


def publish(run, httpserver, day: date, *args: str):
    serve_day(httpserver, day)
    assert run("fetch").exit_code == 0
    return run("digest", "--date", day.isoformat(), "--publish", *args)


def test_a_saturday_week_puts_the_weekend_first_in_its_own_post():
    blog = BlogConfig.model_validate({key: value for key, value in BLOG.items() if key != "repo"})
    saturday, monday, friday = date(2024, 8, 24), date(2024, 8, 26), date(2024, 8, 30)
    for day in (saturday, date(2024, 8, 25), monday, friday):
        fields = day_fields(blog, day)
        assert (fields["week_start"], fields["week_end"], fields["week_index"]) == (saturday, friday, 4)
    assert day_fields(blog, date(2024, 8, 23))["week_index"] == 3  # the Friday before
    assert [day_heading(blog, day) for day in (saturday, monday, friday)] == ["## 토요일", "## 16일차", "## 20일차"]
    iso = blog.model_copy(update={"week_starts": "monday"})
    assert day_fields(iso, saturday)["week_index"] == 3  # the ISO week would send it to the week before


def test_the_weekend_goes_to_the_post_and_heading_of_the_week_it_opens(project, run, httpserver, week):
    week3_before = (week / WEEK3).read_bytes()
    result = publish(run, httpserver, date(2024, 8, 24))
    assert result.exit_code == 0, result.output
    assert f"blog/{WEEK4}: updated with the 2024-08-24 section" in result.stderr
    assert (week / WEEK3).read_bytes() == week3_before
    text = (week / WEEK4).read_text(encoding="utf-8")
    block = block_of(text, "2024-08-24")
    assert text[:block.start()].endswith("---\n\n## 토요일\n\n")  # first under week 4's own Saturday
    assert text[block.end():].startswith("\n주말에는 밀린 논문을 읽었다.")
    assert headings(text) == ["## 토요일", "## 일요일", "## 16일차", "## 17일차", "## 18일차", "## 19일차",
                              "## 20일차", "## 4주차 후기"]


def test_the_block_sits_first_under_the_day_heading(project, run, httpserver, week):
    before = (week / WEEK4).read_text(encoding="utf-8")
    result = publish(run, httpserver, date(2024, 8, 27))  # 17일차, no hand-written section yet
    assert result.exit_code == 0, result.output
    text = (week / WEEK4).read_text(encoding="utf-8")
    block = block_of(text, "2024-08-27")
    assert text[:block.start()] == before[:before.index("## 17일차\n") + len("## 17일차\n\n")]
    assert text[block.end():] == "\n" + before[before.index("### 부캠 강의\n\n- LSTM"):]
    assert "\n### 데일리 트렌드 {#daily-trends-2024-08-27}\n\n- [" in block.group()


def test_last_puts_the_block_at_the_end_of_the_day(project, run, httpserver, week):
    project.write_config(blog={"position": "last"})
    assert publish(run, httpserver, date(2024, 8, 27)).exit_code == 0
    text = (week / WEEK4).read_text(encoding="utf-8")
    block = block_of(text, "2024-08-27")
    assert text[:block.start()].endswith("- 그래디언트 소실을 정리했다.\n\n")
    assert text[block.end():].startswith("\n## 18일차\n")


def test_a_hand_written_section_of_the_same_title_is_left_alone(project, run, httpserver, week):
    before = (week / WEEK4).read_bytes()
    result = publish(run, httpserver, date(2024, 8, 28))  # 18일차: the person wrote theirs
    assert result.exit_code == 0, result.output
    assert (f"blog/{WEEK4}: the 2024-08-28 section already has your own ### 데일리 트렌드; "
            "left it as it is and wrote digests/2024-08-28.md") in result.stderr
    assert (week / WEEK4).read_bytes() == before
    assert (project.root / "digests" / "2024-08-28.md").read_text(encoding="utf-8").count("\n- [") == 15


def heading_ids(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<h(\d) id="([^"]+)"', html)


def test_the_persons_heading_anchors_do_not_move(project, run, httpserver, week, jekyll):
    """kramdown numbers repeated ids (데일리-트렌드-1, -2, …); trendbot's heading before theirs must
    not renumber them, so its heading carries an id of its own."""
    before = heading_ids(jekyll.post((week / WEEK4).read_text(encoding="utf-8")))
    assert ("3", "데일리-트렌드-1") in before  # the person's repeated headings, numbered by kramdown
    assert publish(run, httpserver, date(2024, 8, 27)).exit_code == 0  # before 18일차's and 19일차's own
    assert publish(run, httpserver, date(2024, 8, 24)).exit_code == 0  # before all of them
    after = heading_ids(jekyll.post((week / WEEK4).read_text(encoding="utf-8")))
    trendbots = {("3", "daily-trends-2024-08-24"), ("3", "daily-trends-2024-08-27")}
    assert trendbots <= set(after)
    assert [h for h in after if h not in trendbots] == before


def test_no_quiet_or_failed_day_is_written_into_a_post(project, run, httpserver, week):
    before = (week / WEEK4).read_bytes()
    # a quiet day in the week: the post is left as it is
    serve_day(httpserver, date(2024, 8, 29))
    assert run("fetch").exit_code == 0
    quiet = run("digest", "--date", "2024-08-30", "--publish")
    assert quiet.exit_code == 0
    assert "2024-08-30: no story, so blog/_posts/2024-08-24-boostcamp-week4.md is left as it is" in quiet.stderr
    assert (week / WEEK4).read_bytes() == before
    # a quiet day in a week without a post: no post is created for it
    assert run("digest", "--date", "2024-09-03", "--publish").exit_code == 0
    assert sorted(p.name for p in (week / "_posts").iterdir()) == [Path(WEEK3).name, Path(WEEK4).name]
    assert "조용한 날" in (project.root / "digests" / "2024-09-03.md").read_text(encoding="utf-8")
    # every source failing is an outage, not a quiet day
    httpserver.clear()
    httpserver.expect_request("/rss/news").respond_with_data("down", status=503)
    failed = run("digest", "--date", "2024-09-04", "--fetch", "--publish")
    assert failed.exit_code == 1
    digest = (project.root / "digests" / "2024-09-04.md").read_text(encoding="utf-8")
    assert "모든 소스의 수집에 실패" in digest and "조용한 날" not in digest
    assert "<small>※ geeknews: 수집 실패</small>" in digest and "503" not in digest
    assert (week / WEEK4).read_bytes() == before


def test_commit_never_takes_the_persons_uncommitted_work(project, run, httpserver, week):
    post = week / WEEK4
    post.write_text(post.read_text(encoding="utf-8").replace("쉬었다.", "쉬었다. 산책도 했다."), encoding="utf-8")
    (week / "_posts" / "draft.md").write_text("초안\n", encoding="utf-8")
    git(week, "add", "_posts/draft.md")  # staged work of theirs
    result = publish(run, httpserver, date(2024, 8, 27), "--commit")
    assert result.exit_code == 0, result.output
    assert "not committed: the post has changes of yours that are not committed" in result.stderr
    assert git(week, "log", "--format=%s").splitlines() == ["blog"]
    text = post.read_text(encoding="utf-8")
    assert "산책도 했다." in text and "trendbot:begin 2024-08-27" in text  # written, with their edit
    assert git(week, "diff", "--cached", "--name-only").split() == ["_posts/draft.md"]  # still staged

    git(week, "commit", "-q", "-m", "my edits", "--", WEEK4)
    again = publish(run, httpserver, date(2024, 8, 24), "--commit")
    assert again.exit_code == 0, again.output
    assert git(week, "log", "--format=%s").splitlines()[0] == "trendbot: 2024-08-24 데일리 트렌드"
    assert git(week, "show", "--name-only", "--format=", "HEAD").split() == [WEEK4]
    assert git(week, "diff", "--cached", "--name-only").split() == ["_posts/draft.md"]


def test_the_dry_run_diff_applies_with_git_apply(project, run, httpserver, week):
    serve_day(httpserver, date(2024, 8, 27))
    assert run("fetch").exit_code == 0
    dry = run("digest", "--date", "2024-08-27", "--publish", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith(f"--- a/{WEEK4}\n+++ b/{WEEK4}\n@@ ")
    patch = project.root / "day.patch"
    patch.write_text(dry.stdout, encoding="utf-8")
    subprocess.run(["git", "-C", str(week), "apply", str(patch)], check=True, capture_output=True)
    applied = (week / WEEK4).read_bytes()
    git(week, "checkout", "--", WEEK4)
    assert run("digest", "--date", "2024-08-27", "--publish").exit_code == 0
    assert (week / WEEK4).read_bytes() == applied
    # a post that does not exist yet: the diff creates it
    serve_day(httpserver, date(2024, 9, 2))
    assert run("fetch").exit_code == 0
    new = run("digest", "--date", "2024-09-02", "--publish", "--dry-run")
    assert new.stdout.startswith("--- /dev/null\n+++ b/_posts/2024-08-31-boostcamp-week5.md\n")
    patch.write_text(new.stdout, encoding="utf-8")
    subprocess.run(["git", "-C", str(week), "apply", str(patch)], check=True, capture_output=True)
    assert "title: \"부스트캠프 5주차 후기\"" in (week / "_posts" / "2024-08-31-boostcamp-week5.md").read_text(encoding="utf-8")
