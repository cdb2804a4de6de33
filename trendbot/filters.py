"""`include` / `exclude`: keep a general source (Hacker News, Reddit, a feed) about what you follow.

An entry is a word or, written between slashes (`/gpt-?\\d/`), a regular expression; both match
case-insensitively against an item's title and text. A word matches where it is not part of a
longer Latin word, so `AI` finds "AI agents" and "AI-powered" but not "said", while a Korean word
matches inside the longer word its particles make (`인공지능` finds "인공지능을").
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Any, Iterable

_NOT_LATIN_BEFORE = r"(?<![A-Za-z0-9])"
_NOT_LATIN_AFTER = r"(?![A-Za-z0-9])"


@lru_cache(maxsize=1024)
def compile_pattern(entry: str) -> re.Pattern[str]:
    """The pattern of one entry; raises ValueError naming the entry when it cannot be read."""
    text = entry.strip()
    if not text:
        raise ValueError("an empty word matches everything; remove it")
    if len(text) > 2 and text.startswith("/") and text.endswith("/"):
        try:
            return re.compile(text[1:-1], re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f'"{entry}" is not a regular expression: {exc}') from None
    word = re.escape(text)
    before = _NOT_LATIN_BEFORE if text[0].isascii() and text[0].isalnum() else ""
    after = _NOT_LATIN_AFTER if text[-1].isascii() and text[-1].isalnum() else ""
    return re.compile(before + word + after, re.IGNORECASE)


def matches_any(entries: Iterable[str], *texts: str | None) -> bool:
    patterns = [compile_pattern(entry) for entry in entries]
    return any(pattern.search(text) for text in texts if text for pattern in patterns)


def wanted(include: list[str], exclude: list[str], title: str, text: str | None = None) -> bool:
    """Whether an item passes a source's filter: some include entry (when there are any) and no
    exclude entry matches its title or text."""
    if include and not matches_any(include, title, text):
        return False
    return not (exclude and matches_any(exclude, title, text))


@dataclass
class Sifted:
    """What a source's filter kept, and how many items each list left out."""

    kept: list[Any] = field(default_factory=list)
    by_include: int = 0
    by_exclude: int = 0

    def left_out(self) -> str:
        """`3 left out by include, 1 by exclude`, or "" when the filter left out nothing."""
        parts = [f"{count} left out by {name}" for name, count in (("include", self.by_include),
                                                                   ("exclude", self.by_exclude)) if count]
        if len(parts) == 2:
            parts[1] = parts[1].replace(" left out", "")
        return ", ".join(parts)


def sift(items: Iterable[Any], include: list[str], exclude: list[str]) -> Sifted:
    """The items that pass `include` and `exclude`, with the count each one left out (an item
    no include entry matches is counted for include, even when an exclude entry matches too)."""
    sifted = Sifted()
    for item in items:
        if include and not matches_any(include, item.title, item.text):
            sifted.by_include += 1
        elif exclude and matches_any(exclude, item.title, item.text):
            sifted.by_exclude += 1
        else:
            sifted.kept.append(item)
    return sifted
