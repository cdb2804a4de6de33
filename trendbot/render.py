"""Markdown for the day's section, safe for kramdown (GFM), MathJax and Liquid.

The blog runs Jekyll: Liquid sees the file first, then kramdown, then MathJax in the browser.
Every web string must read as literal text to all three, yet the person edits this markdown by
hand, so a character is escaped only where it would change what the reader sees, in the
lightest form that works:

- a backslash where kramdown honours one: `[` always (links, footnotes), `]` in link text (and
  a `:` after it), `|` (a line holding a pipe is a table row), backticks (code spans), `{`
  before `:` (attribute lists, `{::comment}`) or after `{` (Liquid's `{{`), `<` unless a space
  follows (tags, autolinks, `<<`), `>` before `>`, and the first of `~~`, `--`, `...`
  (strikethrough, dashes, ellipsis); `_` and `*` only where they could open emphasis;
- what no backslash makes safe: `$` and `\\` each alone in an empty `<span>` (MathJax searches
  one text node at a time, so a lone delimiter never pairs up into math, and kramdown never
  sees `$$`), `{` before `%` as `&#123;` (Liquid's `{%`), `&` that would start an entity as
  `&amp;`, `<` as `&lt;` at the end or before a span, a leading `^` as `&#94;`;
- at the start of a list item (a title without a link) a backslash before what would open a
  heading, a quote, a list or a rule;
- everything else as written: parentheses, `#`, `!`, `:`, and quotes and apostrophes, which
  kramdown's typography curls as it does the person's own.

Only http(s) URLs become links; everything else is dropped to plain text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote, urlsplit, urlunsplit

from trendbot.text import clean, cut
from trendbot.urls import safe_http_url

_ACTIVE = re.compile(r"""
    [\\$\[|`]                                          # math, links, tables, code spans
  | -(?=-) | \.(?=\.\.) | ~(?=~) | >(?=>)              # dashes, ellipsis, strikethrough, >>
  | <(?!\ )                                            # tags, autolinks, <<
  | \{(?=[:%]) | (?<=\{)\{                             # {: {:: {% {{
  | &(?=(?:\#\d+|\#x[0-9a-fA-F]+|[\w:][-\w.:]*);)      # entities
  | _+ | \*+                                           # emphasis
""", re.X)
_FORMS = {"$": "<span>$</span>", "\\": "<span>\\\\</span>", "&": "&amp;"}
_LETTER = {"Lu", "Ll", "Lt", "Lm", "Lo"}
# Where a backslash goes at the start of a list item: before a heading, a quote, a nested list
# or a rule, or before the dot of an ordered list's number.
_BLOCK_START = re.compile(r"^(?=[#>+*-])|^\d+(?=\.(?: |$))")
# Characters a URL keeps as they are; everything else is percent-encoded, so nothing in an
# href can close the markdown link, start Liquid, or carry quotes into the attribute.
_URL_SAFE = "/?=&%-._~+,;:@!*"


def _is_letter(char: str) -> bool:
    """A letter to kramdown's `[[:alpha:]]`, and one in Unicode 3.2 already, so a Ruby with
    older Unicode tables agrees."""
    return unicodedata.category(char) in _LETTER and unicodedata.ucd_3_2_0.category(char) in _LETTER


def _emphasis_run(run: str, before: str, after: str) -> str:
    """A run of `_` or `*` that cannot open emphasis: kramdown takes at most two delimiters at a
    time, reads `_` after a letter as part of the word and never opens with `*` before a space.
    As none of trendbot's delimiters opens, none pairs with another or with the person's own
    emphasis added later on the line."""
    if run[0] == "*":  # the two next to the space stay
        bare = min(len(run), 2) if after == " " else 0
        return "\\*" * (len(run) - bare) + "*" * bare
    bare = min(len(run), 2) if before and _is_letter(before) else 0  # the two next to the letter
    return "_" * bare + "\\_" * (len(run) - bare)


def _escape(match: re.Match) -> str:
    found, text, start, end = match.group(), match.string, match.start(), match.end()
    if found[0] in "_*":
        return _emphasis_run(found, text[start - 1:start], text[end:end + 1])
    if found == "{" and text.startswith("%", end):
        return "&#123;"
    if found == "<" and (end == len(text) or text[end] in "$\\"):
        return "&lt;"  # `\<` before a tag (ours or `</small>`) would be kramdown's literal `\<<`
    return _FORMS.get(found, "\\" + found)


def escape_text(text: str | None, *, link_text: bool = False) -> str:
    """A web string as literal inline text for kramdown + MathJax + Liquid, for a place where
    markdown stands before and after it (a list item's text, link text, an inline HTML
    element). `link_text` also escapes `]`, which would end the link, and a `:` after it: at
    the start of a line kramdown reads `[...]:` as a link definition, escaped or not."""
    escaped = _ACTIVE.sub(_escape, clean(text))
    if link_text:
        escaped = escaped.replace("]", "\\]").replace("\\]:", "\\]\\:")
    return escaped


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
    """`[title](url)`, or the bare title when the URL is not http(s), made safe to open the list
    item it then stands at the start of."""
    target = escape_url(url) if url else None
    text = escape_text(title, link_text=bool(target))
    if text.startswith("^"):
        text = "&#94;" + text[1:]  # `[^` is a footnote reference, a lone `^` kramdown's end of block
    return f"[{text}]({target})" if target else _BLOCK_START.sub(r"\g<0>\\", text, count=1)


@dataclass
class Line:
    """One story as rendered: its main link, a summary, meta labels and extra mentions."""

    title: str
    url: str | None
    summary: str = ""
    meta: list[str] = field(default_factory=list)
    mentions: list[tuple[str, str]] = field(default_factory=list)  # (label, url)
    own_title: str | None = None  # the person's own link text (markdown as they wrote it), kept as it is


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
    target = escape_url(line.url) if line.url else None
    if line.own_title and target:
        out = f"- [{line.own_title}]({target})"
    else:
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
                   all_failed: bool = False, anchor: str | None = None, quiet: str | None = None) -> str:
    """The day's section. A quiet day is one line (a total outage says so instead); notes
    (failed or stale sources) close the section."""
    parts = [f"{title.strip()} {{#{anchor or heading_id(day)}}}", ""]
    if lines:
        parts += [render_line(line) for line in lines]
    elif all_failed:
        parts.append(f"{day.isoformat()}: 모든 소스의 수집에 실패해 소식을 모으지 못했습니다.")
    else:
        parts.append(quiet or f"{day.isoformat()}: 새로 수집된 소식이 없는 조용한 날입니다.")
    if notes:
        parts.append("")
        parts += [f"<small>{escape_text('※ ' + note)}</small>  " for note in notes]
        parts[-1] = parts[-1].rstrip()
    return "\n".join(parts) + "\n"
