"""The published post through the real GitHub Pages pipeline (Liquid, then kramdown with the GFM
parser): every item of trendbot's section comes out as a link whose text is the original title
and whose href is the canonical URL, with nothing else in the HTML that could run, format or
become math. Needs Ruby's kramdown, kramdown-parser-gfm and liquid (see tests/tools/jekyll.py)."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from urllib.parse import unquote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from conftest import read_data
from trendbot.config import BlogConfig
from trendbot.posts import day_heading, day_slot
from trendbot.sections import place_section
from trendbot.render import Line, escape_text, link, render_section
from trendbot.text import clean

DAY = date(2026, 9, 29)
WEEKLY = BlogConfig(day_heading="## {day_index}일차", first_day=date(2026, 9, 4))
ALLOWED = {"h3": {"id"}, "ul": set(), "li": set(), "a": {"href"}, "span": set(), "p": set(), "small": set()}

# What the user wrote in the hostile feed, and where each link must point (tracking removed).
HOSTILE = [
    ("Quotes \"double\" 'single' -- dashes ... ellipsis <<guillemets>>", "https://blog.example.com/posts/quotes"),
    ("🚀 한국어 제목: 트랜스포머로 만든 #1 모델 ~취소선~ `backticks` & entities", "https://github.com/org/repo"),
    ("Pipes | in | a title, \\(inline\\) and \\[display\\] with C:\\path\\",
     "https://example.com/%24dollar/path?x=1&y=%27q%27"),
    ("Liquid {{ site.title }} and {% raw %} and {%- endraw -%}", "https://x.com/akhaliq/status/1829000000000000000"),
    ("[click me](javascript:alert(1)) and <img src=x onerror=alert(1)>", "https://news.hada.io/topic?id=16369"),
    ("snake_case_names and a_b_c with **bold** and __under__", "https://example.com/wiki/Snake_%28case%29?q=a_b"),
    ("Energy $E=mc^2$ and $$\\sum_i x_i$$ in a title", "https://huggingface.co/papers/2408.13934"),
]


CURLED = {"'": "‘’", '"': "“”"}


def literal(rendered: str, written: str) -> bool:
    """The page shows exactly what the web wrote: the same characters, except that straight
    quotes are curled by kramdown's typography, as the person's own are."""
    return len(rendered) == len(written) and all(
        shown == char or shown in CURLED.get(char, "") for shown, char in zip(rendered, written))


def section_html(html: str, day: date = DAY) -> str:
    """The HTML between trendbot's marker comments (kramdown keeps HTML comments as they are)."""
    match = re.search(rf"<!-- trendbot:begin {day} sha256:[0-9a-f]{{64}}(?: listed:[0-9a-f.]*)? -->(.*?)<!-- trendbot:end {day} -->",
                      html, re.S)
    assert match, html
    return match.group(1)


def check_section(html: str, allowed: dict = ALLOWED) -> list:
    """Assert the section holds only the expected elements and no live math; return its items."""
    tree = LexborHTMLParser(f"<div id=section>{html}</div>")
    root = tree.css_first("#section")
    for index, node in enumerate(root.traverse(include_text=True)):
        if index == 0:
            continue  # the wrapper
        if node.tag == "-text":
            text = node.text_content or ""
            if "$" in text or "\\" in text:
                # MathJax reads one text node at a time: a delimiter alone in its element never pairs up
                assert node.parent.tag == "span" and text in ("$", "\\"), f"live math delimiter in {text!r}"
            continue
        assert node.tag in allowed, f"unexpected <{node.tag}> in {html}"
        assert set(node.attributes) <= allowed[node.tag], f"unexpected attributes on <{node.tag}>: {node.attributes}"
        if node.tag == "span":
            assert node.text() in ("$", "\\") and node.child.tag == "-text", node.html
        if node.tag == "a":
            assert node.parent.tag == "li"
            assert re.match(r"https?://", node.attributes["href"]), node.attributes
    return root.css("li")


def publish_hostile(project, run, httpserver) -> str:
    repo = project.root / "blog"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "_posts").mkdir()
    post = repo / "_posts" / "2026-10-03-boostcamp-week5.md"
    post.write_bytes(read_data("publish/boostcamp_week5.md"))
    project.write_config(blog={"repo": "blog", "post": "_posts/2026-10-03-boostcamp-week5.md",
                               "day_heading": "## {day_index}일차", "first_day": "2026-09-04"})
    httpserver.expect_request("/hostile.xml").respond_with_data(read_data("publish/hostile_rss_2026-09-29.xml"),
                                                                content_type="application/rss+xml")
    project.add_source("hostile", kind="feed", url=httpserver.url_for("/hostile.xml"))
    assert run("fetch").exit_code == 0
    result = run("digest", "--date", DAY.isoformat(), "--publish")
    assert result.exit_code == 0, result.output
    return post.read_text(encoding="utf-8")


def test_every_hostile_title_is_its_own_text_inside_its_link(project, run, httpserver, jekyll):
    post = publish_hostile(project, run, httpserver)
    html = jekyll.post(post)
    items = check_section(section_html(html))
    links = [(li.css_first("a").text(), li.css_first("a").attributes["href"]) for li in items]
    assert [href for _, href in links] == [url for _, url in HOSTILE]
    for (shown, _), (title, _) in zip(links, HOSTILE):
        assert literal(shown, title), (shown, title)
    # the item that had no web link is plain text, not a link
    assert "Not a web link" not in html and "javascript:" not in "".join(href for _, href in links)
    assert "LIQUID-RAN" not in html
    source = post[post.index("<!-- trendbot:begin"):post.index("<!-- trendbot:end")]
    assert "{{" not in source and "{%" not in source


def test_the_persons_own_post_renders_as_before(project, run, httpserver, jekyll):
    post = publish_hostile(project, run, httpserver)
    before = jekyll.post(read_data("publish/boostcamp_week5.md").decode("utf-8"))
    after = jekyll.post(post)
    added = section_html(after)
    # the only change in the HTML is the new heading and trendbot's section
    start = after.index('<h2 id="18일차">18일차</h2>')
    end = after.index("<!-- trendbot:end 2026-09-29 -->") + len("<!-- trendbot:end 2026-09-29 -->")
    assert added in after[start:end]
    assert " ".join((after[:start] + after[end:]).split()) == " ".join(before.split())
    assert "\\[E = mc^2\\]" in after  # the person's display math, as kramdown hands it to MathJax


# A title is anything a site may send: markup, math, Liquid, table and emphasis syntax, quotes,
# emoji and Korean, in any order.
PIECES = ["{:", "{::comment}", "{:/}", '{: onclick="x"}', "{::nomarkdown}", "[^1]", "[x]:", "*[", "<!--", "-->",
          "&#x5c;", "<3", "<a@b.c>", "<http://x.y>", "___", "***", "a", "1", "é", "²", "Ⅻ", "\u0301", ",", ";",
          "?", "/", "%", "a*,", "*,",
          "$", "$$", "\\", "\\(", "\\)", "\\[", "\\]", "_", "__", "*", "**", "`", "```", "~", "~~", "|", "#",
          "[", "]", "(", ")", "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>", "<script>", "</b>",
          "{{ site.x }}", "{% raw %}", "{%", "}}", "&amp;", "&#36;", "&", "<", ">", "<<", ">>", "\"", "'", "--",
          "...", "-", ".", ":", "!", "^", "=", "+", "1.", "- ", "> ", "    ", "\t", "😀", "🚀", "한국어", "트렌드",
          "x", "E=mc^2", " ", "http://a.b", "www.example.com", "@user", ":smile:", "&nbsp;", "\u00a0"]
titles = st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map("".join).filter(lambda t: clean(t))
paths = st.text(alphabet="abcXYZ019_-.~()$'*!,;:@+=&%한", max_size=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(titles, titles, paths), min_size=1, max_size=4))
@example(lines=[("^", "$", "_0_")])  # `[^` is a kramdown footnote: found by this property
def test_random_hostile_titles_render_as_literal_links(jekyll, lines):
    rendered = [Line(title=title, url=f"https://example.com/p/{path}", summary=summary)
                for title, summary, path in lines]
    section = render_section(DAY, rendered, [], "### 데일리 트렌드")
    slot = day_slot(WEEKLY, DAY)
    post = place_section(read_data("publish/boostcamp_week5.md").decode("utf-8"), DAY, section,
                         slot.heading, slot.days, slot.ends).text
    source = post[post.index("<!-- trendbot:begin"):post.index("<!-- trendbot:end")]
    assert "{{" not in source and "{%" not in source
    html = jekyll.post(post)
    assert "LIQUID-RAN" not in html
    items = check_section(section_html(html))
    assert len(items) == len(lines)
    for li, (title, summary, path) in zip(items, lines):
        anchor = li.css_first("a")
        assert literal(anchor.text(), clean(title)), (anchor.text(), title)
        assert unquote(anchor.attributes["href"]) == unquote(f"https://example.com/p/{path}")
        expected = clean(title) if clean(summary) == clean(title) else f"{clean(title)} — {clean(summary)}"
        assert literal(li.text(), expected), (li.text(), expected)


# Any text at all: the pieces above between random characters of every script and category.
web_texts = st.lists(st.sampled_from(PIECES) | st.characters(exclude_categories=("Cs",)), min_size=1,
                     max_size=16).map("".join).filter(lambda t: clean(t))
NOTE_ALLOWED = ALLOWED | {"br": set()}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(web_texts, web_texts, web_texts, web_texts, st.booleans()), min_size=1, max_size=10),
       notes=st.lists(web_texts, max_size=3))
@example(lines=[("[x]: a link definition", "<$", "a <", "^", True)], notes=["<"])  # found by this property
@example(lines=[("a___b *** c", "{{", "{%", "]:", False)], notes=["<</small> x"])
def test_web_text_reads_as_itself_wherever_trendbot_writes_it(jekyll, lines, notes):
    """Each text as a link's text, as the title opening a line when its URL is not http(s), as a
    summary, as a meta label, as a mention's label and as a note in `<small>`: through Liquid and
    kramdown each reads exactly as written, and nothing else appears."""
    markdown = ["### 데일리 트렌드", ""]
    for n, (title, summary, label, mention, web) in enumerate(lines):
        url = f"https://example.com/{n}" if web else f"javascript:alert({n})"
        markdown.append(f"- {link(title, url)} — {escape_text(summary)} · {escape_text(label)} · "
                        f"{link(mention, f'https://mention.example/{n}')}")
    markdown.append("")
    markdown += [f"<small>{escape_text(note)}</small>  " for note in notes]
    source = "\n".join(markdown).rstrip() + "\n"
    assert "{{" not in source and "{%" not in source

    html = jekyll.kramdown(source, liquid=True)
    assert "LIQUID-RAN" not in html
    body = html.split("</h3>", 1)[1]
    items = check_section(body.split("</ul>", 1)[0] + "</ul>")
    assert len(items) == len(lines)
    for n, (li, (title, summary, label, mention, web)) in enumerate(zip(items, lines)):
        expected = " — ".join([clean(title), f"{clean(summary)} · {clean(label)} · {clean(mention)}"])
        assert literal(li.text(), expected), (li.text(), expected)
        anchors = li.css("a")
        assert [a.attributes["href"] for a in anchors] == [f"https://example.com/{n}"] * web + [
            f"https://mention.example/{n}"]
        assert literal(anchors[-1].text(), clean(mention))
        if web:
            assert literal(anchors[0].text(), clean(title))
    smalls = LexborHTMLParser(body).css("small")
    check_section(body.split("</ul>", 1)[1], NOTE_ALLOWED)
    assert len(smalls) == len(notes)
    for small, note in zip(smalls, notes):
        assert literal(small.text(), clean(note)), (small.text(), note)


PERSONS_REMARK = "내 생각: *중요* _참고_ **꼭** ~~틀림~~ `code`"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(web_texts, web_texts), min_size=1, max_size=10))
@example(lines=[("v1__beta x_", "2_b a* c")])
def test_markup_the_person_adds_to_a_line_pairs_only_with_itself(jekyll, lines):
    """The person appends a remark with their own emphasis, strikethrough and code: none of
    trendbot's escaped characters pairs with theirs, so both read as meant."""
    source = "\n".join(f"- {link(title, f'https://example.com/{n}')} — {escape_text(summary)} {PERSONS_REMARK}"
                       for n, (title, summary) in enumerate(lines)) + "\n"
    items = LexborHTMLParser(jekyll.kramdown(source, liquid=True)).css("li")
    assert len(items) == len(lines)
    for li, (title, summary) in zip(items, lines):
        assert literal(li.css_first("a").text(), clean(title))
        assert [(node.tag, node.text()) for node in li.css("em, strong, del, code")] == [
            ("em", "중요"), ("em", "참고"), ("strong", "꼭"), ("del", "틀림"), ("code", "code")]
        expected = f"{clean(title)} — {clean(summary)} 내 생각: 중요 참고 꼭 틀림 code"
        assert literal(li.text(), expected), (li.text(), expected)
