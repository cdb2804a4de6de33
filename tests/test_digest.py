"""`trendbot digest` on recorded data: the exact markdown a user gets."""

from __future__ import annotations

import json
import os
import stat
import threading

from conftest import read_data

EXPECTED_2026_11_20 = """\
### 데일리 트렌드 {#daily-trends-2026-11-20}

- [\\<script>alert(1)\\</script> and {\\{ site.title }} &#123;% raw %}](https://blog.example.com/posts/2) — Liquid {\\{ page.x }} and a \\| pipe \\| table. · hostile
- [Stars \\*bold* and snake_case_names with <span>$</span>x^2<span>$</span> math](https://blog.example.com/posts/1) — First sentence with \\[brackets](javascript:alert(1)). · hostile
"""


def fetch_hostile(project, run, httpserver):
    httpserver.expect_request("/hostile.xml").respond_with_data(read_data("feeds/hostile_rss.xml"),
                                                                content_type="application/rss+xml")
    project.add_source("hostile", kind="feed", url=httpserver.url_for("/hostile.xml"))
    assert run("fetch").exit_code == 0


def test_digest_renders_the_day_exactly(project, run, httpserver):
    fetch_hostile(project, run, httpserver)
    result = run("digest", "--date", "2026-11-20", "--out", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED_2026_11_20


def test_digest_writes_digests_folder_by_default(project, run, httpserver):
    fetch_hostile(project, run, httpserver)
    result = run("digest", "--date", "2026-11-20")
    assert result.exit_code == 0
    assert (project.root / "digests" / "2026-11-20.md").read_text(encoding="utf-8") == EXPECTED_2026_11_20
    assert "wrote digests/2026-11-20.md (2 stories)" in result.stderr
    run("digest", "--date", "2026-11-20", "--out", "elsewhere/day.md")
    assert (project.root / "elsewhere" / "day.md").read_text(encoding="utf-8") == EXPECTED_2026_11_20


def test_out_to_a_pipe_writes_into_it_and_leaves_it_a_pipe(project, run, httpserver):
    # `--out /dev/stdout` or a FIFO: the atomic rename that protects a post would replace the
    # device or pipe with a regular file (it once turned this machine's /dev/null into one)
    fetch_hostile(project, run, httpserver)
    fifo = project.root / "section.pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    result = run("digest", "--date", "2026-11-20", "--out", str(fifo))
    reader.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert received == [EXPECTED_2026_11_20]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert not [p.name for p in project.root.iterdir() if p.name.endswith(".tmp")]


def test_out_to_a_folder_is_a_clear_error(project, run):
    (project.root / "here").mkdir()
    result = run("digest", "--date", "2026-01-01", "--out", "here")
    assert result.exit_code != 0 and "here: not written (it is a folder)" in result.stderr, result.output


def test_day_boundaries_follow_the_configured_zone(project, run, httpserver):
    fetch_hostile(project, run, httpserver)
    seoul = json.loads(run("items", "--date", "2026-11-19", "--json").stdout)
    assert [row["title"] for row in seoul] == ["Yesterday's post"]
    stored = json.loads(run("items", "--date", "2026-11-20", "--json").stdout)
    project.write_config(timezone="America/Los_Angeles")
    fetch_hostile(project, run, httpserver)
    # an item's day is fixed when it is first stored: a new zone files new items, never moves old ones
    assert json.loads(run("items", "--date", "2026-11-20", "--json").stdout) == stored
    project.db_path.unlink()
    fetch_hostile(project, run, httpserver)
    la = json.loads(run("items", "--date", "2026-11-19", "--json").stdout)
    assert len(la) == 3


def test_quiet_day_is_one_line(project, run):
    result = run("digest", "--date", "2026-01-01", "--out", "-")
    assert result.stdout == "### 데일리 트렌드 {#daily-trends-2026-01-01}\n\n2026-01-01: 새로 수집된 소식이 없는 조용한 날입니다.\n"


def test_failed_source_gets_a_note_and_fetch_first_exits_1(project, run, httpserver):
    fetch_hostile(project, run, httpserver)
    httpserver.expect_request("/down.xml").respond_with_data("down", status=500)
    project.add_source("down", kind="feed", url=httpserver.url_for("/down.xml"))
    result = run("digest", "--date", "2026-11-20", "--fetch", "--out", "-")
    assert result.exit_code == 1
    assert result.stdout.startswith(EXPECTED_2026_11_20)
    note = result.stdout[len(EXPECTED_2026_11_20):]
    # the note says what a reader needs; the reason stays in `trendbot sources` and on stderr
    assert note == "\n<small>※ down: 수집 실패</small>\n"
    assert "down failed" in result.stderr and "HTTP 500 Internal Server Error" in result.stderr


def test_bad_date_is_a_usage_error(run):
    result = run("digest", "--date", "next week")
    assert result.exit_code == 2
    assert '"next week" is not a day (use YYYY-MM-DD, today or yesterday)' in result.stderr


def test_items_and_search_show_stored_items(project, run, httpserver):
    fetch_hostile(project, run, httpserver)
    rows = json.loads(run("items", "--date", "2026-11-20", "--json").stdout)
    assert {row["url"] for row in rows} == {"https://blog.example.com/posts/1?utm_source=rss&utm_medium=feed",
                                            "https://blog.example.com/posts/2"}
    assert all(row["source"] == "hostile" and row["day"] == "2026-11-20" for row in rows)
    plain = run("items", "--date", "2026-11-20").stdout
    assert "hostile" in plain and "https://blog.example.com/posts/2" in plain
    found = json.loads(run("search", "snake_case_names", "--json").stdout)
    assert [row["url"] for row in found] == ["https://blog.example.com/posts/1?utm_source=rss&utm_medium=feed"]
    found = json.loads(run("search", "한국어", "--json").stdout)
    assert [row["url"] for row in found] == ["https://blog.example.com/posts/2"]
