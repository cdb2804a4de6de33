"""Markdown for the day's section, safe for kramdown (GFM), MathJax and Liquid.

The blog runs Jekyll: Liquid sees the file first, then kramdown, then MathJax in the browser.
Every web string is made literal for all three:

- markdown and HTML syntax (`* _ [ ] ( ) < > | # ~ { }`, backticks, `&`) and what kramdown's
  typography would change (quotes, `--`, `...`) become numeric character references, which
  kramdown passes through as text and never parses as syntax; `{` as a reference also stops
  Liquid from seeing `{{` or `{%`;
- `$` and `\\` are wrapped in an empty `<span>`: MathJax searches one text node at a time,
  so a delimiter alone in its own element can never pair up into math, and the reference
  keeps kramdown from reading `$$` as its own math syntax.

Only http(s) URLs become links; everything else is dropped to plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote, urlsplit, urlunsplit

from trendbot.text import clean, cut
from trendbot.urls import safe_http_url

_ENTITY_CHARS = "&<>*_[]()|#`~{}\"'"
_ESCAPES = {ch: f"&#{ord(ch)};" for ch in _ENTITY_CHARS}
_ESCAPES["$"] = "<span>&#36;</span>"
_ESCAPES["\\"] = "<span>&#92;</span>"
_TABLE = str.maketrans(_ESCAPES)
_TYPOGRAPHY = re.compile(r"[-.](?=[-.])")  # `--` and `...` would become dashes and an ellipsis
# Characters a URL keeps as they are; everything else is percent-encoded, so nothing in an
# href can close the markdown link, start Liquid, or carry quotes into the attribute.
_URL_SAFE = "/?=&%-._~+,;:@!*"


def escape_text(text: str | None) -> str:
    """A web string as literal inline text for kramdown + MathJax + Liquid."""
    escaped = clean(text).translate(_TABLE)
    return _TYPOGRAPHY.sub(lambda m: f"&#{ord(m.group())};", escaped)


def escape_url(url: str) -> str | None:
    """An http(s) URL safe inside `[...](...)`, or None if it is not http(s)."""
    url = safe_http_url(clean(url))
    if url is None:
        return None
    parts = urlsplit(url)
    netloc = parts.netloc.encode("idna").decode() if not parts.netloc.isascii() else parts.netloc
    return urlunsplit((
        parts.scheme.lower(), quote(netloc, safe=":@[]"), quote(parts.path, safe=_URL_SAFE),
        quote(parts.query, safe=_URL_SAFE), quote(parts.fragment, safe=_URL_SAFE),
    ))


def link(title: str, url: str | None) -> str:
    text = escape_text(title)
    target = escape_url(url) if url else None
    if target and text.startswith("^"):
        text = "&#94;" + text[1:]  # kramdown reads `[^` as a footnote reference, never as a link
    return f"[{text}]({target})" if target else text


@dataclass
class Line:
    """One story as rendered: its main link, a summary, meta labels and extra mentions."""

    title: str
    url: str | None
    summary: str = ""
    meta: list[str] = field(default_factory=list)
    mentions: list[tuple[str, str]] = field(default_factory=list)  # (label, url)


TITLE_CHARS = 200    # longest title written into the section (cut at a word, with "…")
SUMMARY_CHARS = 300  # longest summary, whatever the summarizer returned

_SCHEME = re.compile(r"https?://(?:www\.)?")
MIN_SUMMARY_REST = 12


def summary_beyond_title(title: str, summary: str) -> str:
    """The summary without the title it repeats, for titles cut from the text itself (an X or
    Bluesky post's title is the start of the post): keep only what follows, if it says enough,
    and nothing when the summary is only the title's beginning."""
    summary, title = clean(summary), clean(title)
    head = _SCHEME.sub("", title.removesuffix("…").rstrip())
    plain = _SCHEME.sub("", summary)
    if plain and head.startswith(plain.removesuffix("…").rstrip()):
        return ""  # the summary is the title's first sentence
    if not head or not plain.startswith(head):
        return summary
    rest = plain[len(head):].lstrip(" :,.;-—·")
    return rest if len(rest) >= MIN_SUMMARY_REST else ""


def render_line(line: Line) -> str:
    out = "- " + link(cut(line.title, TITLE_CHARS), line.url)
    summary = cut(line.summary, SUMMARY_CHARS)
    if summary and summary != clean(line.title):
        out += " — " + escape_text(summary)
    extras = [escape_text(label) for label in line.meta]
    extras += [link(label, url) for label, url in line.mentions if escape_url(url)]
    if extras:
        out += " · " + " · ".join(extras)
    return out


def heading_id(day: date) -> str:
    """trendbot's own anchor for its section heading. kramdown does not count a heading with an
    explicit id when it numbers repeated ones (`데일리-트렌드-4`), so the person's headings keep
    their anchors whatever trendbot adds before them."""
    return f"daily-trends-{day.isoformat()}"


def render_section(day: date, lines: list[Line], notes: list[str], title: str = "### 데일리 트렌드",
                   all_failed: bool = False) -> str:
    """The day's section. A quiet day is one line (a total outage says so instead); notes
    (failed or stale sources) close the section."""
    parts = [f"{title.strip()} {{#{heading_id(day)}}}", ""]
    if lines:
        parts += [render_line(line) for line in lines]
    elif all_failed:
        parts.append(f"{day.isoformat()}: 모든 소스의 수집에 실패해 소식을 모으지 못했습니다.")
    else:
        parts.append(f"{day.isoformat()}: 새로 수집된 소식이 없는 조용한 날입니다.")
    if notes:
        parts.append("")
        parts += [f"<small>{escape_text('※ ' + note)}</small>  " for note in notes]
        parts[-1] = parts[-1].rstrip()
    return "\n".join(parts) + "\n"
