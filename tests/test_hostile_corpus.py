"""A generated corpus of hostile titles, texts and URLs through the whole pipeline:
served as a feed, fetched by the real CLI, rendered by `trendbot digest`, then through Liquid
and kramdown as GitHub Pages does. Nothing active may come out: no HTML but the list, no link
that is not http(s), no Liquid evaluated, no math delimiter MathJax could pair, and every
title comes out as exactly its own text."""

from __future__ import annotations

import json
import random
from urllib.parse import unquote, urljoin


from test_kramdown import CURLED, check_section, literal
from trendbot.render import TITLE_CHARS
from trendbot.text import clean, cut
from trendbot.urls import strip_tracking

FRAGMENTS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:alert(1)'>x</a>",
    "</li></ul><h1>", "&lt;b&gt;", "&amp;amp;", "[x](javascript:alert(1))", "![i](data:image/png;base64,AA)",
    "**bold**", "__u__", "`code`", "~~del~~", "| a | b |", "# heading", "> quote", "1. list", "---", "...",
    "$x$", "$$\\sum_i$$", "\\(a\\)", "\\[b\\]", "\\begin{equation}", "{{ site.title }}", "{% raw %}",
    "{%- endraw -%}", "{{", "%}", "\x01\x02\x1b[31m", "\u202eevil\u202c", "zero\u200bwidth", "tab\there",
    "트랜스포머로 만든 한국어 제목", "مرحبا بالعالم", "日本語のタイトル", "🚀🤖", "Ωmega", "a_b_c", "C:\\path\\",
    "<<guillemets>>", "\"double\" 'single'", "line\nbreak", "  spaced  ", ":smile:", "@mention", "#123",
    "http://bare.example/x", "www.example.com", "<https://auto.example>", "javascript:alert(1)",
]
# quotes as typed, to find the title a rendered (typographically quoted) one came from
STRAIGHT = str.maketrans({curled: plain for plain, pair in CURLED.items() for curled in pair})
BAD_LINKS = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox",
             "file:///etc/passwd", "/relative/path", "mailto:a@b.c"]


def corpus(seed: int = 20261120, size: int = 80) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for n in range(size):
        title = " ".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 6))) + f" (n{n})"
        if n % 17 == 0:
            title = title + " " + "긴제목" * 1500  # very long
        text = " ".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 8))) + ". Second sentence."
        url = f"https://corpus.example/{n}/{rng.choice(['a_b', '(paren)', '$cash', 'q?x=1&y={{z}}', '한국'])}"
        if n % 9 == 4:
            url = rng.choice(BAD_LINKS) + (f"/{n}" if n % 2 else "")  # a relative link resolves
        items.append({"id": f"corpus-{n}", "url": url, "title": title,
                      "content_html": f"<p>{text}</p>", "date_published": "2026-11-20T03:00:00Z"})
    return items


def test_hostile_corpus_renders_as_inert_literal_text(project, run, httpserver, jekyll):
    items = corpus()
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "corpus", "items": items}
    httpserver.expect_request("/corpus.json").respond_with_data(json.dumps(feed), content_type="application/feed+json")
    project.add_source("corpus", kind="feed", url=httpserver.url_for("/corpus.json"))
    project.write_config(digest={"limit": 500})
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", "2026-11-20", "--out", "-")
    assert result.exit_code == 0, result.output
    markdown = result.stdout
    assert "{{" not in markdown and "{%" not in markdown

    html = jekyll.kramdown(markdown, liquid=True)
    assert "LIQUID-RAN" not in html
    rendered = check_section(html.split("</h3>", 1)[1])  # the list after the section title
    # a title longer than the section's maximum is cut at a word, with "…"
    links = {cut(clean(item["title"]), TITLE_CHARS): urljoin(httpserver.url_for("/corpus.json"), item["url"]) for item in items}
    expected = {title.translate(STRAIGHT): (title, url) for title, url in links.items()
                if url.startswith(("http://", "https://"))}
    assert len(expected) < len(items)  # the corpus does hold links that must be dropped
    assert len(rendered) == len(expected)
    for li in rendered:
        link = li.css_first("a")
        assert link is not None, li.html
        shown = link.text()
        assert shown.translate(STRAIGHT) in expected, f"title changed on the way: {shown[:80]!r}"
        title, url = expected.pop(shown.translate(STRAIGHT))
        assert literal(shown, title), (shown[:80], title[:80])
        assert unquote(link.attributes["href"]) == unquote(strip_tracking(url))
