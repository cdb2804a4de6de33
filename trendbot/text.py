"""Plain-text helpers: the one cleaning function, first sentence, cutting at a word boundary.

Pure functions shared by parsers and summarizers; they work for Korean and English alike.
"""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")
# C0 and C1 controls (C1 holds the terminal's CSI U+009B and OSC U+009D), zero-width and bidi
# override characters: none belongs in a title, and some rewrite a terminal or reorder a line.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029"
                      "\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Sentence end: . ! ? (ASCII or full-width) or 。 followed by space or the end; a number like 3.5
# never matches, and a lone initial or a common abbreviation is skipped.
_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
MIN_SENTENCE = 12        # an English sentence shorter than this is a fragment ("Fig. 3.")
MIN_HANGUL_SENTENCE = 4  # Korean packs a sentence into few characters ("좋습니다.")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "al", "dr", "mr", "ms", "no", "fig", "eq", "approx"})


def valid_unicode(text: str) -> str:
    """`text` as valid Unicode: a lone surrogate (JSON's `\\udcff`, undecodable bytes read with
    surrogateescape) becomes U+FFFD, so the text can always be encoded, stored and printed."""
    return _SURROGATE.sub("\ufffd", text)


def clean(text: str | None) -> str:
    """The one cleaning function for text from the web: valid Unicode, no control or
    bidi-override characters, whitespace collapsed."""
    if not text:
        return ""
    return _SPACE.sub(" ", _CONTROL.sub("", valid_unicode(text))).strip()


MESSAGE_CHARS = 200  # the most trendbot says about one thing on a line: a list says its first few


def first_few(parts: list[str], shown: int = 3, sep: str = ", ") -> str:
    """`a, b, c and 16 more`: a list as a message names the first few and counts the rest."""
    head = sep.join(parts[:shown])
    return head + (f" and {len(parts) - shown} more" if len(parts) > shown else "")


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
        if match.end() >= (MIN_HANGUL_SENTENCE if _HANGUL.search(text[: match.end()]) else MIN_SENTENCE):
            text = text[: match.end()]
            break
    return cut(text, limit)


def compact_count(n: int) -> str:
    """A count as a reader skims it in a meta label: 999, 1.2k, 15.6k, 249k, 1.2M."""
    if abs(n) < 1000:
        return str(n)
    for size, suffix in ((1_000, "k"), (1_000_000, "M")):
        value = n / size
        shown = f"{value:.1f}" if abs(value) < 99.95 else f"{value:.0f}"
        if abs(float(shown)) < 1000:
            return shown.removesuffix(".0") + suffix
    return f"{n / 1_000_000:.0f}M"


# What some sources put where a post has no words: Nitter titles a bare photo "Image" (and
# "Video", "Gif", "Media" for mixed media); blog engines write "Untitled".
_PLACEHOLDERS = frozenset({"image", "images", "photo", "video", "gif", "media", "untitled", "no title",
                           "(no title)", "[no title]", "(untitled)"})
_BARE_HANDLE = re.compile(r"^@[\w.-]+$")
MEDIA_WORDS = {"photo": "사진", "video": "동영상", "gif": "동영상"}


def is_placeholder(title: str | None) -> bool:
    """Whether a title says nothing of its post: empty, a bare @handle, or a word a source puts
    in for a post without text ("Image", "Video", "Untitled")."""
    text = clean(title)
    return not text or text.lower() in _PLACEHOLDERS or bool(_BARE_HANDLE.match(text))


def media_word(kinds: set[str]) -> str:
    """"사진" (photos), "동영상" (a video or a GIF), "사진과 동영상", else "게시물" (a post)."""
    words = [word for word in ("사진", "동영상") if any(MEDIA_WORDS.get(kind) == word for kind in kinds)]
    return "과 ".join(words) or "게시물"


def wordless_title(account: str | None, *, card: str | None = None, quote: str | None = None,
                   alt: str | None = None, media: set[str] = frozenset()) -> str:
    """The title of a post that has no words of its own, from what the post holds, most telling
    first: the linked card's title, the quoted post ("인용: …"), the media's alt text, else the
    account and what it posted ("@handle의 사진", "@handle의 동영상", "@handle의 게시물").

    One rule for every kind, so a photo is never listed as "Image" or as a bare "@handle"."""
    if not is_placeholder(card):
        return clean(card)
    if not is_placeholder(quote):
        return f"인용: {clean(quote)}"
    if not is_placeholder(alt):
        return clean(alt)
    what = media_word(set(media))
    account = clean(account)
    return f"{account}의 {what}" if account else what
