"""Escaping properties of the renderer (the kramdown and browser checks live in the publishing tests)."""

from __future__ import annotations

import html
import re

from hypothesis import given, strategies as st

from trendbot.render import Line, escape_text, escape_url, render_line, summary_beyond_title
from trendbot.text import clean

ACTIVE = set("*_[]()|<>`{}~\"'$\\&#")
SPAN = re.compile(r"<span>(&#(?:36|92);)</span>")
ENTITY = re.compile(r"&#\d+;")


def decoded(escaped: str) -> str:
    return html.unescape(SPAN.sub(r"\1", escaped))


@given(st.text())
def test_escaped_text_has_no_active_character_and_decodes_to_the_input(text):
    escaped = escape_text(text)
    bare = ENTITY.sub("", SPAN.sub("", escaped))
    assert not (set(bare) & ACTIVE)
    assert "--" not in bare and ".." not in bare
    assert "{{" not in escaped and "{%" not in escaped
    assert decoded(escaped) == clean(text)


@given(st.text(alphabet=st.sampled_from("$\\()[]`*_ ab")))
def test_math_delimiters_never_stand_next_to_each_other_in_one_text_node(text):
    # Outside our spans no `$` or `\` remains, so MathJax cannot find a delimiter pair.
    outside = SPAN.sub("|", escape_text(text))
    assert "$" not in outside and "\\" not in outside


@given(st.sampled_from(["javascript:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd",
                        "//evil.example/x", "mailto:a@b.c", " javascript:x", "JAVASCRIPT:x"]))
def test_only_http_links_are_written(url):
    assert escape_url(url) is None
    assert "](" not in render_line(Line(title="t", url=url))


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))))
def test_escaped_urls_cannot_break_out_of_the_link(path):
    url = escape_url("https://example.com/" + path)
    assert url is not None
    assert not (set(url) & set(" ()<>[]{}\"'`|\\$\n"))


def test_a_summary_that_repeats_the_title_keeps_only_what_follows():
    assert summary_beyond_title("Meta presents a paper: arxiv.org/abs/2603.01234",
                                "Meta presents a paper: https://arxiv.org/abs/2603.01234") == ""
    assert summary_beyond_title("This is the paper everyone is talking about today",
                                "This is the paper everyone is talking about today Google DeepMind "
                                "introduces Gemini Diffusion 2") == "Google DeepMind introduces Gemini Diffusion 2"
    assert summary_beyond_title("Mixture of Recursions: dynamic depths…",
                                "Mixture of Recursions: dynamic depths discuss…") == ""
    assert summary_beyond_title("A paper", "Something else entirely.") == "Something else entirely."
    assert summary_beyond_title("One of the best cold opens in history. youtube.com/watch?v=e6Funs6yyEw",
                                "One of the best cold opens in history.") == ""
