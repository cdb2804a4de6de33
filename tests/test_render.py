"""Escaping properties of the renderer on the markdown source (what the page shows, through real
Liquid + kramdown and MathJax, is proven in test_kramdown.py and test_mathjax_browser.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, strategies as st

from trendbot.render import Line, escape_text, escape_url, link, render_line, summary_beyond_title
from trendbot.text import clean

URL = "https://example.com/p"
# every character some rule may change; anything else is always written as published
TOUCHED = "\\$[]|`{<>&_*~-.^"
FORMS = {"<span>$</span>": "$", "<span>\\\\</span>": "\\", "&amp;": "&", "&#123;": "{", "&#94;": "^", "&lt;": "<"}
FORM = re.compile("|".join(map(re.escape, FORMS)) + r"|\\(.)")
SPANS = re.compile(r"<span>(?:\$|\\\\)</span>")
# what a backslash escapes in kramdown's GFM parser (Kramdown::Parser::GFM::ESCAPED_CHARS_GFM)
KRAMDOWN_ESCAPE = re.compile(r"\\[\\.*_+`<>()\[\]{}#!:|\"'$=\-~]")


def decoded(source: str) -> str:
    """What a reader of the markdown source reads: every escape undone."""
    return FORM.sub(lambda m: m.group(1) if m.group(1) is not None else FORMS[m.group()], source)


@given(st.text(), st.booleans())
@example("<", False)  # `<` at the very end is written as &lt;
def test_escaping_loses_nothing_and_never_opens_liquid(text, link_text):
    escaped = escape_text(text, link_text=link_text)
    assert decoded(escaped) == clean(text)
    assert "{{" not in escaped and "{%" not in escaped


@given(st.text(alphabet=st.sampled_from("$\\()[]`*_{}<>&|~-. ab")))
def test_no_math_delimiter_reaches_the_page_outside_its_own_span(text):
    # outside the spans, every backslash is one kramdown consumes, so MathJax sees no `\` or `$`
    outside = KRAMDOWN_ESCAPE.sub("", SPANS.sub("|", escape_text(text, link_text=True)))
    assert "$" not in outside and "\\" not in outside


@given(st.text(alphabet=st.characters(exclude_characters=TOUCHED, exclude_categories=("Cs",))))
def test_text_without_markdown_characters_is_written_as_published(text):
    # quotes, apostrophes, parentheses, `#`, `!`, `:`, Korean, emoji: kramdown reads them as text
    assert escape_text(text) == clean(text)
    if clean(text):
        assert link(text, URL) == f"[{clean(text)}]({URL})"


@pytest.mark.parametrize("text, source", [
    ("MAE-2: Masked_Autoencoders__Revisited [v2]", "MAE-2: Masked_Autoencoders__Revisited \\[v2]"),
    ("It's \"GPT-4o\" (v2) #1: done!", "It's \"GPT-4o\" (v2) #1: done!"),
    ("snake_case 한국_어 __init__ v1_beta a___b", "snake_case 한국_어 \\_\\_init__ v1\\_beta a__\\_b"),
    ("2 * 3 ** 4 a*b* *** x*", "2 * 3 ** 4 a\\*b* \\*** x\\*"),
    ("a|b `code` ~one~ ~~two~~", "a\\|b \\`code\\` ~one~ \\~~two\\~~"),
    ("--flag --- a...b .... - .", "\\--flag \\-\\-- a\\...b \\.\\... - ."),
    ("<b> <http://x> a < b <3 <<x>> >", "\\<b> \\<http://x> a < b \\<3 \\<\\<x\\>> >"),
    ("{{ site.title }} {% raw %} {:.x} {::comment} {x}", "{\\{ site.title }} &#123;% raw %} \\{:.x} \\{::comment} {x}"),
    ("A & B, AT&T, &amp; &#36; &#x24;", "A & B, AT&T, &amp;amp; &amp;#36; &amp;#x24;"),
    ("$5 and \\(x\\)", "<span>$</span>5 and <span>\\\\</span>(x<span>\\\\</span>)"),
    ("[^1] ![i](x) a]b", "\\[^1] !\\[i](x) a]b"),
])
def test_each_character_gets_the_lightest_form_that_works(text, source):
    assert escape_text(text) == source


@pytest.mark.parametrize("title, url, source", [
    ("Masked_Autoencoders [v2]", URL, f"[Masked_Autoencoders \\[v2\\]]({URL})"),
    ("^1 footnote-like", URL, f"[&#94;1 footnote-like]({URL})"),
    ("[Paper]: a link definition", URL, f"[\\[Paper\\]\\: a link definition]({URL})"),
    ("# not a heading", "javascript:alert(1)", "\\# not a heading"),
    ("> not a quote", None, "\\> not a quote"),
    ("- not a list", None, "\\- not a list"),
    ("* not a list", None, "\\* not a list"),
    ("+ not a list", None, "\\+ not a list"),
    ("2024. not a list", None, "2024\\. not a list"),
    ("3.5 Sonnet", None, "3.5 Sonnet"),
    ("^", None, "&#94;"),
])
def test_a_title_is_safe_as_link_text_and_at_the_start_of_its_line(title, url, source):
    assert link(title, url) == source


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
