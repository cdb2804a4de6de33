"""Taste: what the person does with trendbot's lines is read as verdicts, learned, and used in
the ranking; nothing of it ever writes to the post.

The papers are real Hugging Face Daily Papers answers of June 2026 (tests/data/taste/, origin
in its README), served from 127.0.0.1 and fetched by the real CLI; the Korean titles are the
real GeekNews feed of tests/data/publish/. The person's edits are made to the post itself, as
they would make them in their editor.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from conftest import read_data, stored
from hypothesis import given, settings
from hypothesis import strategies as st
from test_publish import make_repo

from trendbot import taste
from trendbot.kinds.geeknews import parse_feed_topics, topic_url
from trendbot.kinds.hf_papers import parse_api_page
from trendbot.models import Verdict
from trendbot.render import Line, render_section
from trendbot.sections import block_body

ROOT = Path(__file__).resolve().parent.parent
API_JSON = "application/json"
POST = "_posts/{week_start:%Y-%m-%d}-week.md"
BLOG = {"repo": "blog", "post": POST, "day_heading": "## {date:%m월 %d일}", "week_starts": "saturday"}
# The recorded days are in June 2026: read that far back for edits.
TASTE = {"lookback": "300d"}
NOTE = "  - 읽어볼 것: 로봇 쪽 연구실에 공유"


def papers(day: str) -> list:
    return parse_api_page(read_data(f"taste/hf_{day}.json"), source="huggingface",
                          listed_on=date.fromisoformat(day), url="recorded").items


def section(day: str, count: int = 8) -> str:
    """trendbot's block for the first `count` papers of a recorded day, as it renders it."""
    lines = [Line(title=p.title, url=p.url, summary=p.summary or "", meta=["HF ▲0"]) for p in papers(day)[:count]]
    return block_body(render_section(date.fromisoformat(day), lines, ["huggingface: 수집 실패"]))


def story_line_indexes(block: str) -> list[int]:
    return [i for i, line in enumerate(block.split("\n")) if line.startswith("- [")]


def verdicts_by_story(base: str, mine: str | None) -> dict[str, tuple[str, str | None]]:
    return {one.story: (one.verdict, one.line) for one in taste.read_verdicts(base, mine)}


# -- verdicts from each kind of edit ---------------------------------------------------------------

def test_each_kind_of_edit_gives_its_verdict():
    base = section("2026-06-01")
    lines = base.split("\n")
    at = story_line_indexes(base)
    urls = [re.search(r"\]\((https://[^)]+)\)", lines[i]).group(1) for i in at]
    rewritten = lines[at[1]].replace(lines[at[1]][3:lines[at[1]].index("](")], "로봇 손 조작 논문")
    edited = list(lines)
    edited[at[1]] = rewritten                                   # a title rewritten in Korean
    edited.insert(at[2] + 1, NOTE)                              # a note under the third line
    del edited[at[4] + 1]                                       # the fifth line deleted (after the insert)
    moved = edited.pop(at[7] + 0)                               # the eighth line moved to the top
    edited.insert(at[0], moved)
    found = verdicts_by_story(base, "\n".join(edited))
    assert found[urls[1]] == ("annotated", rewritten)
    assert found[urls[2]] == ("annotated", lines[at[2]])
    assert found[urls[4]] == ("deleted", None)
    assert found[urls[7]] == ("moved", None)
    assert {found[url][0] for url in (urls[0], urls[3], urls[5], urls[6])} == {"kept"}
    assert len(found) == 8


def test_a_block_untouched_deleted_whole_emptied_or_unreadable_says_nothing():
    base = section("2026-06-02")
    lines = base.split("\n")
    assert taste.read_verdicts(base, base) == []
    assert taste.read_verdicts(base, base.replace("\n", "  \n")) == []     # an editor's trailing spaces
    assert taste.read_verdicts(base, None) == []                           # the block is gone from the post
    heading_only = "\n".join(line for line in lines if not line.startswith("- ["))
    assert taste.read_verdicts(base, heading_only) == []                   # every story line removed
    assert taste.read_verdicts(base, base + "```\nunclosed\n") == []       # a fence never closed


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_deleted_and_annotated_lines_are_exactly_the_ones_edited(data):
    base = section("2026-06-03", count=10)
    lines = base.split("\n")
    at = story_line_indexes(base)
    deleted = data.draw(st.sets(st.sampled_from(range(len(at))), max_size=len(at) - 1))
    noted = data.draw(st.sets(st.sampled_from(sorted(set(range(len(at))) - deleted))))
    if not deleted and not noted:
        deleted = {0}
    out = []
    for i, line in enumerate(lines):
        story = at.index(i) if i in at else None
        if story in deleted:
            continue
        out.append(line)
        if story in noted:
            out.append(NOTE)
    found = taste.read_verdicts(base, "\n".join(out))
    verdict_of = {at.index(next(i for i in at if one.story in lines[i])): one.verdict for one in found}
    assert {i for i, v in verdict_of.items() if v == "deleted"} == deleted
    assert {i for i, v in verdict_of.items() if v == "annotated"} == noted
    assert {i for i, v in verdict_of.items() if v == "kept"} == set(range(len(at))) - deleted - noted


def test_the_person_title_of_an_annotated_line():
    assert taste.person_title("- [로봇 \\[손\\] 조작](https://huggingface.co/papers/1) — 메모") == "로봇 \\[손\\] 조작"
    assert taste.person_title("- 링크 없는 줄") is None


# -- features and the model -----------------------------------------------------------------------

def test_korean_titles_are_learned_through_character_bigrams():
    """The person keeps GeekNews stories about agents and deletes the rest. `에이전트형` never
    appeared as a word, yet the story is liked: its bigrams were."""
    topics = parse_feed_topics(read_data("publish/gn_atom_2026-09-29.xml"), feed_url="https://news.hada.io/rss/news").topics
    items = [stored(id=f"gn{n}", source="geeknews", kind="geeknews", title=topic.title, url=topic_url(topic.id))
             for n, topic in enumerate(topics)]
    unseen = next(item for item in items if "에이전트형" in item.title)
    training = [item for item in items if item is not unseen]
    verdicts = [Verdict(date(2026, 9, 29), item.url, "kept" if "에이전트" in item.title else "deleted", item.title,
                        taste.story_features([item], item.url)) for item in training]
    model = taste.learn(verdicts)
    assert "w:에이전트형" not in model.weights and "ko:에이" in model.weights
    raising, _ = model.explain(5)
    assert {"ko:에이", "ko:이전", "ko:전트"} <= {w.feature for w in raising}
    deleted_scores = [model.score(taste.story_features([item], item.url)) for item in training
                      if "에이전트" not in item.title]
    assert model.score(taste.story_features([unseen], unseen.url)) > max(deleted_scores)


def test_features_name_the_account_site_github_owner_and_keywords():
    post = stored(kind="x", source="x", author="@_akhaliq", title="New paper on robots",
                  url="https://x.com/_akhaliq/status/1", links=["https://github.com/QwenLM/Qwen-VLA"])
    paper = papers("2026-06-01")[0]
    features = taste.story_features([post], post.url)
    assert {"by:@_akhaliq", "site:x.com", "gh:qwenlm", "src:x", "kind:x", "w:robots", "w:paper"} <= set(features)
    assert "w:on" not in features
    hf = taste.story_features([stored(kind="hf_papers", title=paper.title, extra=paper.extra, url=paper.url)], paper.url)
    keyword = paper.extra["ai_keywords"][0].lower()
    assert f"kw:{keyword}" in hf and "site:huggingface.co" in hf


def test_no_verdicts_or_only_one_side_learn_nothing():
    assert taste.learn([]).empty
    only_yes = [Verdict(date(2026, 6, 1), f"u{n}", "kept", "", ["w:robot"]) for n in range(5)]
    assert taste.learn(only_yes).empty and taste.learn(only_yes).score(["w:robot"]) == 0.0


# -- through the CLI and the blog -----------------------------------------------------------------

def serve_days(project, httpserver, *days: str) -> None:
    for day in days:
        httpserver.expect_request("/api/daily_papers", query_string={"date": day, "limit": "50", "p": "0"}
                                  ).respond_with_data(read_data(f"taste/hf_{day}.json"), content_type=API_JSON)
    project.add_source("huggingface", kind="hf_papers", base_url=httpserver.url_for("/").rstrip("/"))


def blog(project, run, httpserver, *days: str, **taste_settings) -> Path:
    make_repo(project.root)
    project.write_config(blog=BLOG, taste={**TASTE, **taste_settings})
    serve_days(project, httpserver, *days)
    for day in days:
        result = run("fetch", "--date", day)
        assert result.exit_code == 0, result.output
    return project.root / "blog"


def publish(run, day: str) -> None:
    result = run("digest", "--date", day, "--publish")
    assert result.exit_code == 0, result.output


def the_post(repo: Path) -> Path:
    (post,) = sorted((repo / "_posts").glob("*.md"))
    return post


def edit_day(post: Path, day: str, keep) -> list[str]:
    """The person keeps the lines `keep(title)` says yes to and notes the first one; the
    addresses of the lines they deleted."""
    text = post.read_text(encoding="utf-8")
    begin = text.index(f"<!-- trendbot:begin {day}")
    end = text.index(f"<!-- trendbot:end {day}")
    out, deleted, noted = [], [], False
    for line in text[begin:end].split("\n"):
        match = re.match(r"- \[(.*?)\]\((https://[^)]+)\)", line)
        if match and not keep(match.group(1)):
            deleted.append(match.group(2))
            continue
        out.append(line)
        if match and not noted:
            out.append(NOTE)
            noted = True
    post.write_text(text[:begin] + "\n".join(out) + text[end:], encoding="utf-8")
    return deleted


def likes_language(title: str) -> bool:
    return re.search(r"language|LLM|reason", title, re.I) is not None


def taste_json(run, *args: str) -> dict:
    result = run("taste", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_learning_twice_changes_nothing_and_never_writes_the_post(project, run, httpserver):
    repo = blog(project, run, httpserver, "2026-06-01")
    publish(run, "2026-06-01")
    post = the_post(repo)
    deleted = edit_day(post, "2026-06-01", likes_language)
    edited = post.read_bytes()
    first = taste_json(run, "--learn")
    assert first["learned"]["recorded"] == first["total"] == first["learned"]["verdicts"] > 0
    assert first["verdicts"]["deleted"] == len(deleted) and first["verdicts"]["annotated"] == 1
    again = taste_json(run, "--learn")
    assert again["learned"]["recorded"] == 0 and again["verdicts"] == first["verdicts"]
    assert post.read_bytes() == edited
    assert project.rows("select count(*) as n from verdicts")[0]["n"] == first["total"]


def test_taste_json_shape_and_text_output(project, run, httpserver):
    repo = blog(project, run, httpserver, "2026-06-01")
    publish(run, "2026-06-01")
    edit_day(the_post(repo), "2026-06-01", likes_language)
    report = taste_json(run, "--learn", "--top", "3")
    assert set(report) == {"verdicts", "total", "weight", "lookback_days", "raising", "lowering", "learned"}
    assert set(report["verdicts"]) == {"deleted", "kept", "moved", "annotated"}
    assert report["weight"] == 2.0 and report["lookback_days"] == 300
    assert 0 < len(report["raising"]) <= 3 and 0 < len(report["lowering"]) <= 3
    for row in report["raising"] + report["lowering"]:
        assert set(row) == {"feature", "weight", "yes", "no"}
    assert all(row["weight"] > 0 for row in report["raising"]) and all(row["weight"] < 0 for row in report["lowering"])
    text = run("taste").stdout
    assert f"{report['total']} verdicts: {report['verdicts']['deleted']} deleted" in text
    assert f"{report['raising'][0]['weight']:+.2f}  {report['raising'][0]['feature']}" in text


def test_forget_clears_every_verdict_and_the_ranking_is_popularity_again(project, run, httpserver):
    repo = blog(project, run, httpserver, "2026-06-01", "2026-06-02")
    publish(run, "2026-06-01")
    edit_day(the_post(repo), "2026-06-01", likes_language)
    total = taste_json(run, "--learn")["total"]
    result = run("taste", "--forget")
    assert result.exit_code == 0 and f"forgot {total} verdicts" in result.stdout
    assert "nothing learned yet" in result.stdout
    assert taste_json(run)["total"] == 0
    terms = json.loads(run("items", "--date", "2026-06-02", "--json").stdout)
    assert terms and {item["taste"] for item in terms} == {0.0}


def section_of(post: Path, day: str) -> str:
    text = post.read_text(encoding="utf-8")
    return text[text.index(f"<!-- trendbot:begin {day}"):text.index(f"<!-- trendbot:end {day}")]


def test_weight_zero_and_a_day_without_verdicts_give_the_popularity_order(project, run, httpserver):
    repo = blog(project, run, httpserver, "2026-06-01", "2026-06-02")
    without = run("digest", "--date", "2026-06-02", "--out", "-").stdout   # no verdicts yet
    assert taste_json(run)["total"] == 0
    publish(run, "2026-06-01")
    edit_day(the_post(repo), "2026-06-01", likes_language)
    taste_json(run, "--learn")
    learned = run("digest", "--date", "2026-06-02", "--out", "-").stdout
    project.write_config(taste={"weight": 0})
    off = run("digest", "--date", "2026-06-02", "--out", "-").stdout
    assert off == without
    assert learned != without
    terms = json.loads(run("items", "--date", "2026-06-02", "--json").stdout)
    assert {item["taste"] for item in terms} == {0.0}


def test_the_next_day_ranks_by_taste_and_items_json_shows_the_term(project, run, httpserver):
    repo = blog(project, run, httpserver, "2026-06-01", "2026-06-02")
    publish(run, "2026-06-01")
    edit_day(the_post(repo), "2026-06-01", likes_language)
    publish(run, "2026-06-02")                          # learns day 1's edits before ranking day 2
    assert taste_json(run)["total"] > 0
    items = json.loads(run("items", "--date", "2026-06-02", "--json").stdout)
    term = {item["title"]: item["taste"] for item in items}
    liked = [t for title, t in term.items() if likes_language(title)]
    others = [t for title, t in term.items() if not likes_language(title)]
    assert sum(liked) / len(liked) > sum(others) / len(others)
    titles = re.findall(r"^- \[(.*?)\]\(", section_of(the_post(repo), "2026-06-02"), re.M)
    assert sum(map(likes_language, titles[:5])) > sum(map(likes_language, titles[-5:]))


def test_verdicts_survive_republishing_and_the_note_is_kept(project, run, httpserver):
    repo = blog(project, run, httpserver, "2026-06-01")
    publish(run, "2026-06-01")
    post = the_post(repo)
    edit_day(post, "2026-06-01", likes_language)
    before = taste_json(run, "--learn")["verdicts"]
    publish(run, "2026-06-01")                          # the settle: merged with the edits
    assert NOTE in post.read_text(encoding="utf-8").split("\n")
    assert taste_json(run, "--learn")["verdicts"] == before
    forced = run("digest", "--date", "2026-06-01", "--publish", "--force")
    assert forced.exit_code == 0, forced.output
    assert NOTE not in post.read_text(encoding="utf-8")  # --force replaced the block: it says nothing now
    assert taste_json(run, "--learn")["verdicts"] == before


def test_the_week_roll_up_puts_annotated_first_under_the_person_title_and_leaves_deleted_out(project, run, httpserver):
    repo = blog(project, run, httpserver, "2026-06-01", "2026-06-02")
    publish(run, "2026-06-01")
    post = the_post(repo)
    deleted = edit_day(post, "2026-06-01", likes_language)
    text = post.read_text(encoding="utf-8")
    noted_line = text.split("\n")[text.split("\n").index(NOTE) - 1]
    mine = noted_line.replace(noted_line[3:noted_line.index("](")], "내가 고른 언어 모델 논문")
    post.write_text(text.replace(noted_line, mine), encoding="utf-8")
    publish(run, "2026-06-02")
    week = run("digest", "--week", "2026-06-02", "--out", "-")
    assert week.exit_code == 0, week.output
    lines = [line for line in week.stdout.split("\n") if line.startswith("- [")]
    assert lines[0].startswith("- [내가 고른 언어 모델 논문](")
    assert not any(f"]({url})" in line for url in deleted for line in lines)


def test_a_short_replay_over_real_days_improves_the_order(tmp_path):
    """Two weeks of the benchmark's replay (tests/data/taste): in the second week the taste
    ranking puts what the person keeps above what they delete more often than the popularity
    order, its first five lines hold more of what they keep, and none of their notes is lost."""
    out = tmp_path / "replay.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_taste.py"), "--days", "9",
                           "--json", str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    second = figures["weeks"][1]
    assert second["days"] == 5 and second["candidates"] > 100
    assert second["auc_taste"] > second["auc_weight0"] + 0.1
    assert second["top5_taste"] > second["top5_weight0"]
    assert figures["notes_lost"] == 0
    assert "| 2 (2026-06-08, 5 days) |" in done.stdout


def test_learn_without_a_blog_is_a_usage_error_and_taste_still_reports(project, run):
    result = run("taste", "--learn")
    assert result.exit_code == 2 and "[blog] repo is not set" in result.stderr
    result = run("taste")
    assert result.exit_code == 0 and "0 verdicts" in result.stdout and "nothing learned yet" in result.stdout
