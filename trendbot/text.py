"""Plain-text helpers: HTML to text, first sentence, cutting at a word boundary.

Pure functions shared by parsers and summarizers; they work for Korean and English alike.
"""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser as HTMLParser

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
# Sentence end: . ! ? (ASCII or full-width) or 。 followed by space or the end; a number like 3.5
# never matches, and a lone initial or a common abbreviation is skipped.
_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "al", "dr", "mr", "ms", "no", "fig", "eq", "approx"})
_BLOCK_TAGS = re.compile(r"(?i)<\s*(br|/p|/li|/div|/h\d|/blockquote|hr)\b[^>]*>")


def clean(text: str | None) -> str:
    """Collapse whitespace and drop control and bidi-override characters."""
    if not text:
        return ""
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def strip_html(markup: str | None) -> str:
    """Text of an HTML fragment, tolerant of the unbalanced tags truncated feeds leave."""
    if not markup:
        return ""
    if "<" not in markup and "&" not in markup:
        return clean(markup)
    if "<" not in markup:
        return clean(html.unescape(markup))
    markup = _BLOCK_TAGS.sub(lambda m: m.group(0) + " ", markup)
    tree = HTMLParser(markup)
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    root = tree.body or tree.root
    text = root.text(separator="", deep=True) if root is not None else ""
    return clean(text)


def cut(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most `limit` characters, cut at a word boundary when there is one near the end."""
    text = clean(text)
    if len(text) <= limit:
        return text
    head = text[: limit - len(ellipsis)]
    space = head.rfind(" ")
    if space >= limit * 0.6:
        head = head[:space]
    return head.rstrip(" ,;:·-–—") + ellipsis


def first_sentence(text: str | None, limit: int = 160) -> str:
    """The first sentence of `text` (tags already stripped), cut to `limit` characters."""
    text = clean(text)
    if not text:
        return ""
    for match in _SENTENCE_END.finditer(text):
        word = text[: match.start()].rsplit(" ", 1)[-1]
        if match.group() == "." and (word.lower().lstrip("(") in _ABBREVIATIONS or
                                     (len(word) == 1 and word.isupper())):
            continue
        if match.end() >= 12:
            text = text[: match.end()]
            break
    return cut(text, limit)


def short_count(n: int) -> str:
    """A count as a reader skims it in a meta label: 999, 1.2k, 15.6k, 249k, 1.2M."""
    if abs(n) < 1000:
        return str(n)
    for size, suffix in ((1_000, "k"), (1_000_000, "M")):
        value = n / size
        shown = f"{value:.1f}" if abs(value) < 99.95 else f"{value:.0f}"
        if abs(float(shown)) < 1000:
            return shown.removesuffix(".0") + suffix
    return f"{n / 1_000_000:.0f}M"
