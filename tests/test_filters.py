"""`include` / `exclude` on any source: a general site stays about what the person follows."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from conftest import read_data
from trendbot.filters import wanted


def test_a_feed_keeps_only_what_its_words_and_patterns_allow(project, run, httpserver):
    httpserver.expect_request("/gn.xml").respond_with_data(
        read_data("feeds/geeknews_atom_2026-09-29.xml"), content_type="application/atom+xml")
    project.add_source("gn", kind="feed", url=httpserver.url_for("/gn.xml"),
                       include=["AI", "LLM", "에이전트", "/claude\\s+\\w+ \\d/"], exclude=["Show HN"])
    result = run("fetch")
    assert result.exit_code == 0, result.output
    items = json.loads(run("items", "--date", "2026-09-29", "--json").stdout)
    titles = {item["title"] for item in items}
    assert "Claude Sonnet 5.5 출시" in titles                       # the regular expression
    assert "cf - Cloudflare API를 위한 에이전트형 CLI" in titles     # a Korean word inside 에이전트형
    assert "Pluto - SOTA 스타크래프트 AI" in titles                  # a whole word
    assert "MicroLLM Lab - 브라우저에서 초소형 LLM 7개 체험하기" in titles
    assert "DuckDB 2.0이 더 빠른 이유" not in titles                 # nothing it asked for
    assert not any(title.startswith("Show HN") for title in titles)  # excluded


def test_a_bad_pattern_is_a_configuration_error_naming_the_file(project, run):
    project.add_source("gn", kind="feed", url="https://example.org/feed", include=["/(unclosed/"])
    result = run("fetch")
    assert result.exit_code == 2
    assert "sources/gn.toml" in result.stderr and "include" in result.stderr
    assert "not a regular expression" in result.stderr


def test_a_latin_word_is_not_found_inside_a_longer_word():
    assert wanted(["AI"], [], "AI-powered search") and wanted(["ai"], [], "New AI agents")
    assert not wanted(["AI"], [], "He said it would rain")
    assert wanted(["인공지능"], [], "인공지능을 활용한 검색")
    assert not wanted([], ["crypto"], "LLMs for Crypto traders")


@given(st.text(max_size=40), st.text(min_size=1, max_size=12).map(str.strip).filter(bool))
def test_a_word_always_finds_itself_standing_alone(noise, word):
    assert wanted([word], [], f"{noise} {word} {noise}")
    assert not wanted([], [word], f"{noise} {word} {noise}")
