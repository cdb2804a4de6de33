"""HTML fragments from the web (a feed's content, a post's body) read as text and links, at a
bounded cost whatever their shape.

The HTML parser's work grows with the square of the nesting depth for some elements (`<div>`,
`<li>`, `<dt>`): a megabyte of `<div>` × 200,000 costs minutes of CPU. A fragment is therefore
cut to `MAX_MARKUP` characters and its tags past `MAX_DEPTH` levels are dropped (their text is
kept) before the parser sees it. Real content nests a few dozen levels at most, so nothing a
reader would see is lost.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from trendbot.text import clean
from trendbot.urls import is_http_url

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser

MAX_MARKUP = 500_000  # characters of one fragment that are read
MAX_DEPTH = 128       # open elements kept; deeper tags are dropped, their text kept

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_HIDDEN = re.compile(r"(?i)<(?:script|style|noscript|template)\b")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Tags that end a line of text; Hacker News separates paragraphs with a bare opening <p>.
_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|p|/p|/li|/div|/h\d|/blockquote|hr)\b[^>]*>")


def bounded(markup: str, limit: int | None = MAX_MARKUP) -> str:
    """`markup` cut to `limit` characters with every tag nested deeper than MAX_DEPTH removed."""
    markup = markup[:limit] if limit else markup
    if markup.count("<") <= MAX_DEPTH:
        return markup
    out: list[str] = []
    last = depth = excess = 0
    for match in _TAG.finditer(markup):
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID or match.group(3).rstrip().endswith("/"):
            continue
        if not closing:
            if depth < MAX_DEPTH:
                depth += 1
                continue
            excess += 1
        elif excess:
            excess -= 1
        else:
            depth = max(depth - 1, 0)
            continue
        out.append(markup[last:match.start()])
        last = match.end()
    out.append(markup[last:])
    return "".join(out)


def _parser():
    # the HTML parser loads with the first document, not with every command (start-up time)
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser


def parse_fragment(markup: str) -> LexborHTMLParser:
    return _parser()(bounded(markup))


def parse_page(body: bytes | str) -> LexborHTMLParser:
    """A whole page (already capped by the HTTP size limit), its nesting bounded like a fragment's."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return _parser()(bounded(text, limit=None))


def strip_html(markup: str | None) -> str:
    """Text of an HTML fragment, tolerant of the unbalanced tags truncated feeds leave."""
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return clean(markup)
    if "<" not in markup:
        return clean(html.unescape(markup))
    markup = _BLOCK_TAGS.sub(lambda m: m.group(0) + " ", bounded(markup))
    tree = _parser()(markup)
    if _HIDDEN.search(markup):  # the CSS query costs more than the parse; most fragments have none
        for node in tree.css("script, style, noscript, template"):
            node.decompose()
    root = tree.body or tree.root
    text = root.text(separator="", deep=True) if root is not None else ""
    return clean(text)


def outbound_links(markup: str, base: str) -> list[str]:
    """Absolute http(s) links found in an HTML fragment, in order, without repeats."""
    if not markup or "<a" not in markup.lower():
        return []
    found: list[str] = []
    for node in parse_fragment(markup).css("a[href]"):
        try:
            href = urljoin(base, (node.attributes.get("href") or "").strip())
        except ValueError:
            continue
        if is_http_url(href) and href not in found:
            found.append(href)
    return found
