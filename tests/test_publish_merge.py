"""The person's notes survive every re-publish: trendbot's update is merged into the block they
edited, in the weekly post of DESIGN.md's layout, through the real CLI.

The papers are the real Hugging Face answer of 2026-06-12 (tests/data/hf/api_2026-06-12.json),
listed here on 2024-08-27 (17일차) with upvotes set per round, served from 127.0.0.1.
"""

from __future__ import annotations

import json

import pytest

from conftest import read_data
from test_publish import block_of, make_repo
from test_weekly_post import BLOG, WEEK4

DAY = "2024-08-27"
PAPERS = json.loads(read_data("hf/api_2026-06-12.json"))


def answer(upvotes: dict[int, int], comments: dict[int, int] | None = None) -> bytes:
    """HF's answer for DAY: the real entries at positions `upvotes` with those upvotes."""
    entries = []
    for index, votes in upvotes.items():
        entry = json.loads(json.dumps(PAPERS[index]))
        entry["paper"]["upvotes"] = votes
        entry["paper"]["submittedOnDailyAt"] = f"{DAY}T00:00:00.000Z"
        entry["numComments"] = (comments or {}).get(index, 0)
        entries.append(entry)
    return json.dumps(entries).encode()


def paper(index: int) -> str:
    return PAPERS[index]["paper"]["id"]


FIRST = {n: 80 - 10 * n for n in range(8)}          # papers 0..7, ranked in that order


@pytest.fixture
def blog(project, run, httpserver):
    repo = make_repo(project.root, {WEEK4: read_data("publish/boostcamp_week4.md")})
    project.write_config(blog=BLOG, digest={"limit": 9})
    documents = {"body": answer(FIRST)}
    httpserver.expect_request("/hf/api/daily_papers").respond_with_handler(
        lambda request: __import__("werkzeug").Response(documents["body"], content_type="application/json"))
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/hf"))

    def publish(*args: str):
        assert run("fetch", "--date", DAY).exit_code == 0
        return run("digest", "--date", DAY, "--publish", *args)

    return repo / WEEK4, documents, publish


def line_of(block: str, index: int) -> str:
    [line] = [line for line in block.splitlines() if f"/papers/{paper(index)})" in line]
    return line


def test_every_edit_survives_the_morning_update(blog):
    post, documents, publish = blog
    assert publish().exit_code == 0
    text = post.read_text(encoding="utf-8")
    block = block_of(text, DAY).group()
    lines = {n: line_of(block, n) for n in range(8)}

    # the evening's edits, as the person makes them in their editor
    korean = f"- [LLM 적응성의 한계: 사전지식이 주석 성능을 좌우함](https://huggingface.co/papers/{paper(1)}) — 읽어볼 것!"
    question = "  - 질문: 이 방법은 왜 $O(n)$ 인가?"
    closing = "정리: 오늘은 평가와 에이전트 논문이 많았다."
    edited_block = block.replace(lines[1], korean)                       # rewritten, with a remark
    edited_block = edited_block.replace(lines[2] + "\n", "")             # deleted
    edited_block = edited_block.replace(lines[3], lines[3] + "\n" + question)  # a sub-bullet with math
    edited_block = edited_block.replace(lines[5] + "\n", "")             # moved ...
    edited_block = edited_block.replace(lines[0], lines[5] + "\n" + lines[0])  # ... to the top
    edited_block = edited_block.replace(lines[7], lines[7] + "\n\n" + closing)  # a paragraph after the list
    edited = text.replace(block, edited_block)
    post.write_text(edited, encoding="utf-8")

    # the next morning: more upvotes on the line with the sub-bullet and on the moved line, a
    # changed count on the rewritten line's story, and a new paper that tops the day
    documents["body"] = answer({**FIRST, 3: 95, 5: 99, 8: 120}, comments={1: 7})
    result = publish()
    assert result.exit_code == 0, result.output
    assert ("merged with your edits: 1 line kept as you wrote it, 1 deletion kept, 2 notes kept, "
            "1 line kept where you moved it; ") in result.stderr
    assert "1 story added" in result.stderr

    text = post.read_text(encoding="utf-8")
    merged = block_of(text, DAY)
    # nothing outside the block changed
    start = edited.index(f"<!-- trendbot:begin {DAY}")
    assert text[:merged.start()] == edited[:start]
    assert text[merged.end():] == edited[edited.index(f"<!-- trendbot:end {DAY} -->\n") + len(f"<!-- trendbot:end {DAY} -->\n"):]
    body = merged.group()
    items = [line for line in body.splitlines() if line.startswith("- ")]
    assert korean in items                                   # theirs, byte for byte
    assert f"/papers/{paper(2)})" not in body                # the deletion kept
    assert line_of(body, 3).endswith("· HF ▲95")             # refreshed ...
    assert body.index(line_of(body, 3) + "\n" + question + "\n") > 0  # ... with its sub-bullet under it
    assert items[0] == line_of(body, 5) and line_of(body, 5).endswith("· HF ▲99")  # moved: where they put it, refreshed
    assert items[1] == line_of(body, 8) and line_of(body, 8).endswith("· HF ▲120")  # the new paper at its rank
    assert body.index(closing) > body.index(line_of(body, 7))  # the paragraph stays at the end of the list
    assert [line for line in items if "/papers/" in line] == items and len(items) == 8

    before, mtime = post.read_bytes(), post.stat().st_mtime_ns
    again = publish()
    assert again.exit_code == 0
    assert "already up to date" in again.stderr
    assert post.read_bytes() == before and post.stat().st_mtime_ns == mtime


def test_a_block_that_cannot_be_read_as_lines_is_left_alone_and_force_replaces_it(blog, project):
    post, documents, publish = blog
    assert publish().exit_code == 0
    text = post.read_text(encoding="utf-8")
    block = block_of(text, DAY).group()
    stories = [line for line in block.splitlines() if line.startswith("- [")]
    rows = "".join(f"| {line[2:line.index(')') + 1]} | 메모 |\n" for line in stories[:3])
    table = "\n| 논문 | 메모 |\n|---|---|\n" + rows  # the same stories, now as a table
    body = "\n".join(line for line in block.splitlines() if not line.startswith("- ["))
    broken = {
        "the list turned into a table": text.replace(block, body.replace("{#daily-trends-2024-08-27}\n",
                                                                         "{#daily-trends-2024-08-27}\n" + table) + "\n"),
        "the end marker removed": text.replace(f"<!-- trendbot:end {DAY} -->\n", ""),
        "two blocks for the day": text.replace(block, block + "\n" + block),
    }
    for case, damaged in broken.items():
        post.write_text(damaged, encoding="utf-8")
        result = publish()
        assert result.exit_code == 1, case
        assert post.read_text(encoding="utf-8") == damaged, case
        assert f"wrote digests/{DAY}.md" in result.stderr, case
    post.write_text(broken["the list turned into a table"], encoding="utf-8")
    forced = publish("--force")
    assert forced.exit_code == 0, forced.output
    assert block_of(post.read_text(encoding="utf-8"), DAY).group() == block


def test_a_dry_run_shows_the_merge_as_a_diff(blog, project):
    post, documents, publish = blog
    assert publish().exit_code == 0
    text = post.read_text(encoding="utf-8")
    mine = line_of(block_of(text, DAY).group(), 0)
    post.write_text(text.replace(mine, mine + " 꼭 읽자"), encoding="utf-8")
    before = post.read_bytes()
    documents["body"] = answer({**FIRST, 4: 300})
    dry = publish("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "merged with your edits: 1 line kept as you wrote it" in dry.stderr and "would update" in dry.stderr
    added = [line for line in dry.stdout.splitlines() if line.startswith("+- [")]
    assert [line for line in added if f"/papers/{paper(4)})" in line][0].endswith("· HF ▲300")
    assert post.read_bytes() == before
