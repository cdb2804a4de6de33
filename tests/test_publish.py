"""Publishing into temporary blog repositories through the real CLI: the GeekNews feed served
from 127.0.0.1, `trendbot fetch`, then `trendbot digest --publish` into a daily or a weekly post."""

from __future__ import annotations

import re
import stat
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from conftest import read_data
from trendbot.jobs import load as load_config
from trendbot.jobs import publish_day
from trendbot.posts import weekday_number
from trendbot.sections import place_section
from trendbot.store import Store

DAY = "2026-09-29"  # a Tuesday: 18일차 of a course that started on Friday 2026-09-04
WEEKLY_POST = "_posts/2026-10-03-boostcamp-week5.md"
WEEKLY = {
    "post": "_posts/*-boostcamp-week{week_index}.md",
    "new_post": "_posts/{week_end:%Y-%m-%d}-boostcamp-week{week_index}.md",
    "day_heading": "## {day_index}일차",
    "first_day": "2026-09-04",
    "front_matter": {"layout": "post", "title": "부스트캠프 {week_index}주차 후기", "use_math": True},
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, files: dict[str, bytes] | None = None) -> Path:
    repo = root / "blog"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Blog Owner")
    git(repo, "config", "user.email", "owner@example.com")
    (repo / "_config.yml").write_text("title: my blog\n", encoding="utf-8")
    for name, data in (files or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "blog")
    return repo


def commits(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s").splitlines()


def serve_feed(project, httpserver, name: str = "gn_atom_2026-09-29.xml") -> None:
    httpserver.clear()
    httpserver.expect_request("/rss/news").respond_with_data(read_data(f"publish/{name}"),
                                                             content_type="application/atom+xml")
    project.add_source("geeknews", kind="feed", url=httpserver.url_for("/rss/news"))


def fetch(project, run, httpserver, name: str = "gn_atom_2026-09-29.xml") -> None:
    serve_feed(project, httpserver, name)
    result = run("fetch")
    assert result.exit_code == 0, result.output


def weekly_blog(project, run, httpserver, post: bytes | None = None, **blog) -> Path:
    repo = make_repo(project.root, {WEEKLY_POST: post if post is not None else read_data("publish/boostcamp_week5.md")})
    project.write_config(blog={"repo": "blog", **WEEKLY, **blog})
    fetch(project, run, httpserver)
    return repo / WEEKLY_POST


def block_of(text: str, day: str = DAY) -> re.Match:
    """The day's block as a user sees it in the file: begin marker to end marker and its newline."""
    match = re.search(rf"<!-- trendbot:begin {day} sha256:[0-9a-f]{{64}}(?: listed:[0-9a-f.]*)? -->\r?\n.*?<!-- trendbot:end {day} -->\r?\n",
                      text, re.S)
    assert match, f"no block for {day} in:\n{text}"
    return match


def headings(text: str) -> list[str]:
    """The post's level-2 headings, as kramdown sees them (not the lines inside code fences)."""
    found, fenced = [], False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        if not fenced and line.startswith("## "):
            found.append(line)
    return found


# -- where the block goes ---------------------------------------------------------------------

def test_new_daily_post_is_created_with_front_matter(project, run, httpserver):
    repo = make_repo(project.root)
    project.write_config(blog={"repo": "blog"})
    fetch(project, run, httpserver)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    post = repo / "_posts" / f"{DAY}-daily-trends.md"
    assert f"blog/_posts/{DAY}-daily-trends.md: created with the {DAY} section (15 stories)" in result.stderr
    text = post.read_text(encoding="utf-8")
    front, body = text.split("---\n", 2)[1:]
    assert yaml.safe_load(front) == {"layout": "post", "title": f"{DAY} 데일리 트렌드", "use_math": True}
    block = block_of(text).group()
    assert body.startswith("\n<!-- trendbot:begin ")
    assert "\n### 데일리 트렌드 {#daily-trends-2026-09-29}\n\n- [AI 기업들이 광고업체에 데이터를 유출함 \\[pdf\\]](https://news.hada.io/topic?id=34489)" in block
    assert block.count("\n- [") == 15
    assert not (project.root / "digests" / f"{DAY}.md").exists()  # the post is the output


def test_weekly_post_gets_the_day_heading_created_between_existing_days(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    before = post.read_text(encoding="utf-8")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    text = post.read_text(encoding="utf-8")
    assert headings(text) == ["## 17일차", "## 18일차", "## 19일차", "## 회고"]
    block = block_of(text)
    # the heading sits right above the block, after the whole 17일차 section (code fence included)
    assert text[:block.start()].endswith("```\n\n### 데일리 트렌드\n\n- [총게임 AI를 트랜스포머를 활용해서 만듦]"
                                         "(https://huggingface.co/papers/2408.13934). 트랜스포머는 ...\n"
                                         "- [Pytorch는 죽었다 JAX 최고](https://news.hada.io/topic?id=16369): "
                                         "아직까진 논란의 여지가 ...\n\n## 18일차\n\n")
    assert text[block.end():].startswith("\n## 19일차\n")
    # nothing else moved: removing what was added gives the original back
    assert text.replace("## 18일차\n\n" + block.group() + "\n", "") == before


def test_day_under_an_existing_heading_and_a_weekend_heading(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    fetch(project, run, httpserver, "gn_atom_2026-09-30.xml")
    assert run("digest", "--date", "2026-09-30", "--publish").exit_code == 0
    text = post.read_text(encoding="utf-8")
    block = block_of(text, "2026-09-30")
    # first in the day, directly under its heading, where the person writes it
    assert text[:block.start()].endswith("\n## 19일차\n\n")
    assert text[block.end():] == "\n### 학습 내용\n\n$$\nE = mc^2\n$$\n\n## 회고\n\n다음 주에는 더 일찍 자자.\n"
    assert block.group().count("\n- [") == 15

    result = run("digest", "--date", "2026-10-03", "--publish")  # a quiet Saturday
    assert result.exit_code == 0
    # no filler in the person's post: the quiet line goes to digests/ only, and the command says so
    assert post.read_text(encoding="utf-8") == text
    assert "2026-10-03: no story, so blog/_posts/2026-10-03-boostcamp-week5.md is left as it is" in result.stderr
    assert "조용한 날" in (project.root / "digests" / "2026-10-03.md").read_text(encoding="utf-8")


def test_publishing_twice_changes_nothing_the_second_time(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    first = post.read_bytes()
    mtime = post.stat().st_mtime_ns
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0
    assert f"blog/{WEEKLY_POST}: the {DAY} section is already up to date" in result.stderr
    assert post.read_bytes() == first and post.stat().st_mtime_ns == mtime


def test_republishing_replaces_only_the_block_and_keeps_hand_edits_around_it(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    text = post.read_text(encoding="utf-8")
    block = block_of(text)
    # the person edits their front matter and writes above and below trendbot's block
    edited = (text[:block.start()].replace("title: 부스트캠프 5주차 후기", "title: 부스트캠프 5주차 후기 (수정)")
              + "오늘 읽을 것:\n\n" + block.group() + "\n내 생각: 전부 읽기엔 많다.   \n" + text[block.end():])
    post.write_text(edited, encoding="utf-8")
    fetch(project, run, httpserver, "gn_atom_2026-09-29_later.xml")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert f"blog/{WEEKLY_POST}: updated with the {DAY} section" in result.stderr
    new = post.read_text(encoding="utf-8")
    old_block, new_block = block_of(edited), block_of(new)
    assert new[:new_block.start()] == edited[:old_block.start()]
    assert new[new_block.end():] == edited[old_block.end():]
    assert "- [Show GN: 터미널에서 논문 읽기 - arxiv-tui](https://news.hada.io/topic?id=34490)" in new_block.group()
    assert "Phyllotaxis - 소리에 반응하는 LED 디스플레이 (영상 추가)" in new_block.group()
    assert new_block.group() != old_block.group()


def test_crlf_post_keeps_its_line_endings(project, run, httpserver):
    crlf = read_data("publish/boostcamp_week5.md").replace(b"\n", b"\r\n")
    post = weekly_blog(project, run, httpserver, post=crlf)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    data = post.read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends with CRLF, the new ones too
    block = block_of(data.decode("utf-8"))
    added = "## 18일차\r\n\r\n" + block.group() + "\r\n"
    assert data.decode("utf-8").replace(added, "").encode("utf-8") == crlf
    # and a republish from the CRLF file recognizes its own block
    assert "already up to date" in run("digest", "--date", DAY, "--publish").stderr


# -- the person's edits win ------------------------------------------------------------------

def test_hand_edits_are_merged_with_the_update_and_force_replaces_them(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    text = post.read_text(encoding="utf-8")
    lines = block_of(text).group().split("\n")
    kept = [line for line in lines if "Regression Testing" not in line]  # deletes one story
    kept = [line + " 이건 꼭 읽자!" if "Phyllotaxis" in line else line for line in kept]  # and comments another
    edited = text.replace("\n".join(lines), "\n".join(kept))
    post.write_text(edited, encoding="utf-8")
    fetch(project, run, httpserver, "gn_atom_2026-09-29_later.xml")

    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert "merged with your edits: 1 line kept as you wrote it, 1 deletion kept" in result.stderr
    new = block_of(post.read_text(encoding="utf-8")).group()
    assert "이건 꼭 읽자!" in new and "Regression Testing" not in new
    assert "arxiv-tui" in new  # the topic that appeared later was added

    forced = run("digest", "--date", DAY, "--publish", "--force")
    assert forced.exit_code == 0, forced.output
    new = post.read_text(encoding="utf-8")
    assert "이건 꼭 읽자!" not in new and "Regression Testing" in block_of(new).group()
    assert "arxiv-tui" in block_of(new).group()


def test_trailing_spaces_trimmed_by_an_editor_are_not_an_edit(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    for name in ("down", "gone"):  # two notes: the first ends in a hard line break ("  ")
        project.add_source(name, kind="feed", url=httpserver.url_for("/down.xml"))
    httpserver.expect_request("/down.xml").respond_with_data("down", status=500)
    assert run("fetch").exit_code == 1
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    text = post.read_text(encoding="utf-8")
    assert "  \n" in block_of(text).group()
    post.write_text(re.sub(r"[ \t]+\n", "\n", text), encoding="utf-8")
    serve_feed(project, httpserver, "gn_atom_2026-09-29_later.xml")
    assert run("fetch").exit_code == 1  # the two still fail; geeknews has news
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert "arxiv-tui" in block_of(post.read_text(encoding="utf-8")).group()


def test_block_removed_by_hand_is_not_put_back(project, run, httpserver):
    """A block the person deleted on purpose stays deleted and no run goes red for it (the
    Actions run of every morning's settle): exit 0, the post untouched, one line saying so."""
    post = weekly_blog(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    text = post.read_text(encoding="utf-8")
    removed = text.replace(block_of(text).group(), "")
    post.write_text(removed, encoding="utf-8")
    before = post.stat().st_mtime_ns
    for _ in range(2):
        result = run("digest", "--date", DAY, "--publish")
        assert result.exit_code == 0, result.stderr
        assert f"you deleted the {DAY} block; it stays deleted (--force writes it back)" in result.stderr
        assert post.read_text(encoding="utf-8") == removed and post.stat().st_mtime_ns == before
    assert run("digest", "--date", DAY, "--publish", "--force").exit_code == 0
    assert block_of(post.read_text(encoding="utf-8"))


def test_broken_markers_are_never_overwritten_even_with_force(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    broken = post.read_text(encoding="utf-8").replace(f"<!-- trendbot:end {DAY} -->\n", "")
    post.write_text(broken, encoding="utf-8")
    result = run("digest", "--date", DAY, "--publish", "--force")
    assert result.exit_code == 1
    assert f"the end marker of the {DAY} block is missing" in result.stderr
    assert "--force overwrites" not in result.stderr
    assert post.read_text(encoding="utf-8") == broken


# -- dry run, commit, files -------------------------------------------------------------------

def test_dry_run_prints_the_diff_and_writes_nothing(project, run, httpserver):
    post = weekly_blog(project, run, httpserver, commit=True)
    repo = post.parents[1]
    before = post.read_bytes()
    result = run("digest", "--date", DAY, "--publish", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"--- a/{WEEKLY_POST}\n+++ b/{WEEKLY_POST}\n@@ ")
    assert "\n+## 18일차\n" in result.stdout and f"\n+<!-- trendbot:end {DAY} -->\n" in result.stdout
    assert f"blog/{WEEKLY_POST}: would update the {DAY} section" in result.stderr
    assert post.read_bytes() == before
    assert not (project.root / "digests").exists()
    assert commits(repo) == ["blog"]
    assert git(repo, "status", "--porcelain") == ""
    assert project.rows("select * from publications") == []


def test_commit_commits_once_and_only_the_post(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    repo = post.parents[1]
    (repo / "draft.md").write_text("half-written\n", encoding="utf-8")
    git(repo, "add", "draft.md")  # the person's staged work is not trendbot's to commit
    result = run("digest", "--date", DAY, "--publish", "--commit")
    assert result.exit_code == 0, result.output
    assert commits(repo) == [f"trendbot: {DAY} 데일리 트렌드", "blog"]
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [WEEKLY_POST]
    assert git(repo, "status", "--porcelain").splitlines() == ["A  draft.md"]
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert result.stderr.strip().endswith(f"committed {head}")
    again = run("digest", "--date", DAY, "--publish", "--commit")
    assert again.exit_code == 0
    assert len(commits(repo)) == 2


def test_blog_commit_setting_and_a_new_post_committed(project, run, httpserver):
    repo = make_repo(project.root)
    project.write_config(blog={"repo": str(repo), "commit": True, "commit_message": "daily: {date:%-m월 %-d일}"})
    fetch(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    assert commits(repo) == ["daily: 9월 29일", "blog"]
    assert git(repo, "status", "--porcelain") == ""


def test_write_keeps_the_file_mode_and_leaves_no_temporary_file(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    post.chmod(0o640)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    assert stat.S_IMODE(post.stat().st_mode) == 0o640
    assert sorted(p.name for p in post.parent.iterdir()) == [post.name]


def test_without_a_blog_the_section_goes_to_digests_and_is_recorded(project, run, httpserver):
    fetch(project, run, httpserver)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 0, result.output
    assert f"wrote digests/{DAY}.md (15 stories)" in result.stderr
    assert (project.root / "digests" / f"{DAY}.md").read_text(encoding="utf-8").startswith("### 데일리 트렌드 {#daily-trends-2026-09-29}\n\n- [")
    rows = project.rows("select day, path from publications")
    assert rows == [{"day": DAY, "path": str((project.root / "digests" / f"{DAY}.md").resolve())}]


def test_publications_are_recorded_for_the_daemon(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    fetch(project, run, httpserver, "gn_atom_2026-09-30.xml")
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    assert run("digest", "--date", "2026-09-30", "--publish").exit_code == 0
    with Store(project.db_path) as store:
        assert store.published_days(date(2026, 9, 30)) == {date(2026, 9, 30)}
        assert store.published_days(date(2026, 9, 1)) == {date(2026, 9, 29), date(2026, 9, 30)}
        assert store.last_published_day() == date(2026, 9, 30)
    assert {row["path"] for row in project.rows("select path from publications")} == {str(post.resolve())}


def test_publish_day_is_what_the_daemon_calls(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    fetch(project, run, httpserver, "gn_atom_2026-09-30.xml")
    config = load_config()
    now = datetime(2026, 9, 29, 14, 30, tzinfo=timezone.utc)
    with Store(config.db_path) as store:
        first = publish_day(config, store, date(2026, 9, 29), now).result
        second = publish_day(config, store, date(2026, 9, 29), now).result
        dry = publish_day(config, store, date(2026, 9, 30), now, dry_run=True).result
    assert (first.status, first.path, first.stories) == ("written", post, 15)
    assert first.diff == ""  # a diff is made for a dry run only (a 50 MB post would pay for it)
    assert "## 18일차" in post.read_text(encoding="utf-8")
    assert (second.status, second.diff) == ("unchanged", "")
    assert dry.status == "dry-run" and "+## 19일차" not in dry.diff and "+<!-- trendbot:begin 2026-09-30" in dry.diff


# -- configuration and errors --------------------------------------------------------------------

def test_glob_matching_two_posts_is_an_error_naming_both(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    (post.parent / "2026-10-04-boostcamp-week5.md").write_text("---\n---\n", encoding="utf-8")
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1
    assert ('[blog] post "_posts/*-boostcamp-week5.md" matches several posts: '
            "blog/_posts/2026-10-03-boostcamp-week5.md, blog/_posts/2026-10-04-boostcamp-week5.md") in result.stderr


def test_weekly_post_created_where_new_post_says(project, run, httpserver):
    repo = make_repo(project.root)
    project.write_config(blog={"repo": "blog", **WEEKLY})
    fetch(project, run, httpserver)
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    text = (repo / "_posts" / "2026-10-04-boostcamp-week5.md").read_text(encoding="utf-8")
    assert text.startswith('---\nlayout: "post"\ntitle: "부스트캠프 5주차 후기"\nuse_math: true\n---\n\n## 18일차\n\n<!--')
    fetch(project, run, httpserver, "gn_atom_2026-09-30.xml")
    assert run("digest", "--date", "2026-09-30", "--publish").exit_code == 0  # found again by the glob
    assert headings((repo / "_posts" / "2026-10-04-boostcamp-week5.md").read_text(encoding="utf-8")) == [
        "## 18일차", "## 19일차"]


def test_missing_post_without_create_is_an_error_and_the_section_goes_to_digests(project, run, httpserver):
    repo = make_repo(project.root)
    project.write_config(blog={"repo": "blog", "create": False})
    serve_feed(project, httpserver)
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1
    assert (f"blog/_posts/{DAY}-daily-trends.md: there is no post for {DAY} and [blog] create = false: "
            f"made none and wrote digests/{DAY}.md") in result.stderr
    assert not (repo / f"_posts/{DAY}-daily-trends.md").exists()
    assert "### 데일리 트렌드" in (project.root / f"digests/{DAY}.md").read_text(encoding="utf-8")


def test_a_read_only_post_is_left_as_it_is(project, run, httpserver):
    post = weekly_blog(project, run, httpserver)
    text = post.read_text(encoding="utf-8")
    post.chmod(0o444)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 1
    assert "the post is read-only (its mode says so); left it as it is and wrote digests/" in result.stderr
    assert post.read_text(encoding="utf-8") == text and post.stat().st_mode & 0o777 == 0o444
    assert "### 데일리 트렌드" in (project.root / f"digests/{DAY}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("blog, message", [
    ({"day_heading": "## {day_index}일차"}, "trendbot.toml: blog: first_day is required when a template uses {day_index}"),
    ({"post": "_posts/*-week.md"}, "trendbot.toml: blog: post holds globs: set new_post"),
    ({"day_heading": "## {day}일차"}, 'trendbot.toml: blog.day_heading: "## {day}일차": unknown field {day}'),
    ({"post": "../elsewhere/{date}.md"}, "trendbot.toml: blog.post: \"../elsewhere/{date}.md\" must be a path inside"),
])
def test_bad_blog_config_exits_2_naming_the_key(project, run, blog, message):
    project.write_config(blog=blog)
    result = run("digest", "--date", DAY, "--publish")
    assert result.exit_code == 2
    assert message in result.stderr


def test_out_and_publish_together_is_bad_usage(project, run):
    result = run("digest", "--date", DAY, "--publish", "--out", "-")
    assert result.exit_code == 2
    assert "--out cannot be combined with --publish" in result.stderr


# -- the pure parts ------------------------------------------------------------------------------

def test_day_index_counts_weekdays_like_the_design_example():
    # DESIGN.md's post: 18일차 of a course that began on Monday 2024-08-05 is Wednesday 2024-08-28
    assert weekday_number(date(2024, 8, 5), date(2024, 8, 28)) == 18
    assert weekday_number(date(2024, 8, 5), date(2024, 8, 5)) == 1
    assert weekday_number(date(2024, 8, 5), date(2024, 8, 10)) == 5  # Saturday counts as Friday's
    assert weekday_number(date(2026, 9, 4), date(2026, 9, 29)) == 18


def test_daily_post_without_headings_gets_the_block_first_or_last():
    post = "---\ntitle: x\n---\n\n오늘 쓴 글\n"
    first = place_section(post, date(2026, 9, 29), "### 데일리 트렌드\n\n- a\n").text
    assert first.startswith("---\ntitle: x\n---\n\n<!-- trendbot:begin 2026-09-29 sha256:")
    assert first.endswith("- a\n\n<!-- trendbot:end 2026-09-29 -->\n\n오늘 쓴 글\n")
    last = place_section(post, date(2026, 9, 29), "### 데일리 트렌드\n\n- a\n", position="last").text
    assert last.startswith(post + "\n<!-- trendbot:begin 2026-09-29 sha256:")
    assert last.endswith("\n\n### 데일리 트렌드\n\n- a\n\n<!-- trendbot:end 2026-09-29 -->\n")
    no_newline = place_section("끝", date(2026, 9, 29), "### t\n", position="last").text
    assert no_newline.startswith("끝\n\n<!-- trendbot:begin")


def test_readme_blog_examples_are_valid_config(project):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    examples = [block for block in re.findall(r"```toml\n(.*?)```", readme, re.S) if block.startswith("[blog]")]
    assert len(examples) == 2
    for example in examples:
        (project.root / "trendbot.toml").write_text(example, encoding="utf-8")
        blog = load_config().settings.blog
        assert blog.repo == "~/blog"
    assert blog.day_heading == "## {day_index}일차"
    assert weekday_number(blog.first_day, date(2024, 8, 28)) == 18


def test_a_bom_stays_the_first_character_of_the_post(project, run, httpserver):
    """A post saved by an editor with a UTF-8 BOM and no front matter: the block goes after the
    BOM (before it, U+FEFF would end up in the middle of the file and Jekyll would see no BOM)."""
    repo = make_repo(project.root, {"_posts/2026-09-29-daily-trends.md": "\ufeff오늘의 메모\n".encode("utf-8")})
    project.write_config(blog={"repo": "blog"})
    serve_feed(project, httpserver)
    assert run("fetch").exit_code == 0
    assert run("digest", "--date", DAY, "--publish").exit_code == 0
    text = (repo / "_posts/2026-09-29-daily-trends.md").read_bytes().decode("utf-8")
    assert text.startswith("\ufeff<!-- trendbot:begin 2026-09-29 ") and text.count("\ufeff") == 1
    assert text.endswith("\n오늘의 메모\n")
