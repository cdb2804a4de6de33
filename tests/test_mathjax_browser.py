"""The published post as a reader sees it: Jekyll's HTML (real Liquid + kramdown GFM) in a page
with MathJax 3 configured the way such blogs do, served from 127.0.0.1 and opened in headless
Chromium. MathJax must typeset the person's own formulas and nothing in trendbot's section.
A screenshot of the section is saved to tests/artifacts/ (git-ignored) on every run."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from selectolax.lexbor import LexborHTMLParser
from werkzeug import Request, Response

from test_kramdown import HOSTILE, literal, publish_hostile, section_html
from tools import browser
from tools.jekyll import Jekyll, missing, require_or_skip

ARTIFACTS = Path(__file__).parent / "artifacts"

# The usual `_includes/mathjax.html` of a Jekyll blog with `use_math: true`.
PAGE = """<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>부스트캠프 5주차 후기</title>
<script>
MathJax = {
  tex: {
    inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
    displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
    processEscapes: true
  },
  startup: {
    pageReady() {
      return MathJax.startup.defaultPageReady().then(() => document.body.setAttribute('data-mathjax', 'done'));
    }
  }
};
</script>
<script id="MathJax-script" async src="/mathjax/es5/tex-chtml.js"></script>
<style>body { font-family: sans-serif; max-width: 900px; margin: 1em auto; }</style>
</head><body>
<article class="post-content">
{content}
</article>
</body></html>
"""


@pytest.fixture(scope="module")
def tools():
    require_or_skip(missing())
    require_or_skip(browser.missing())
    renderer = Jekyll()
    yield renderer
    renderer.close()


def serve_mathjax(request: Request) -> Response:
    relative = request.path.removeprefix("/mathjax/")
    path = (browser.MATHJAX / relative).resolve()
    if browser.MATHJAX.resolve() not in path.parents or not path.is_file():
        return Response("not found", status=404)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(path.read_bytes(), content_type=kind)


def test_mathjax_typesets_the_persons_math_and_nothing_in_trendbots_section(project, run, httpserver, tools,
                                                                            tmp_path):
    post = publish_hostile(project, run, httpserver)
    page = PAGE.replace("{content}", tools.post(post))
    httpserver.expect_request("/2026/10/03/boostcamp-week5.html").respond_with_data(
        page, content_type="text/html; charset=utf-8")
    httpserver.expect_request(re.compile(r"^/mathjax/.*")).respond_with_handler(serve_mathjax)
    url = httpserver.url_for("/2026/10/03/boostcamp-week5.html")

    dom = browser.dump_dom(url, tmp_path / "profile")
    assert 'data-mathjax="done"' in dom, "MathJax did not finish typesetting"
    section = section_html(dom)
    outside = dom.replace(section, "")
    # the person's formulas: two inline ($...$) and one display ($$...$$, which kramdown turns into \[...\])
    tree = LexborHTMLParser(outside)
    containers = tree.css("mjx-container")
    assert len(containers) == 3
    assert [c.attributes.get("display") for c in containers] == [None, None, "true"]
    formulas = [" ".join(c.css_first("math").text().split()) for c in containers]
    assert formulas[2] == "E=mc2"  # the MathML text of E = mc^2
    # trendbot's section: no math at all, and each title reads exactly as the site wrote it
    assert "mjx-" not in section
    items = LexborHTMLParser(section).css("li")
    assert [li.css_first("a").attributes["href"] for li in items] == [url for _, url in HOSTILE]
    for li, (title, _) in zip(items, HOSTILE):
        assert literal(li.css_first("a").text(), title), (li.css_first("a").text(), title)

    heading = LexborHTMLParser(section).css_first("h3").attributes["id"]
    shot = browser.screenshot(f"{url}#{quote(heading)}", ARTIFACTS / "mathjax_trendbot_section.png",
                              tmp_path / "profile-shot")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
