"""The person's taste, learned from what they do with trendbot's lines.

The person reads the day's section, deletes what they do not care about, writes a note under
what they keep, rewrites a title in Korean, moves a line to the top. No buttons, no ratings:
the edits are the signal. Three pure parts, each small enough to read whole:

- **Verdicts** (`read_verdicts`): from `base`, what trendbot last wrote into a block, and
  `mine`, the block as the person left it, one verdict per story line of base, the line known by
  the address of its first link as the block merge knows it (`trendbot/blockmerge.py`):
  `deleted`; `kept` as written; `moved` up; `annotated`, kept with changes or notes (the
  strongest yes, with the person's line). A block the person has not touched says nothing (they
  may not have read it yet), and neither does one they deleted whole or emptied of stories.
- **Features** (`story_features`): what a story is, as words a model can count: the title's
  English words (lower-cased) and Korean character bigrams (Korean writes compounds without
  spaces: `언어모델` shares `언어` with `언어학습`), the source and kind, the X or Bluesky
  account, the linked site and GitHub owner, and a paper's `ai_keywords` where Hugging Face
  gives them (each keyword whole, `kw:robotic manipulation`, and its words as title words: the
  keywords say what the abstract is about, which a title often does not).
- **The model** (`learn`, `Taste`): naive Bayes log-odds with smoothing, one pass over the
  verdicts. Each feature's weight is how much more often it comes with a yes than the person's
  yes rate predicts, pulled towards 0 by a pseudo-count, so a word seen once moves little and a
  word seen with every yes and no no moves a lot; a yes counts by its strength (annotated 2,
  moved 1.5, kept 1), a deletion 1. A story's taste is tanh of the mean weight of its known
  features times the square root of their number (a long title is not surer than a short one),
  in (-1, 1); with no verdicts, or only yeses or only noes, every story's taste is 0. The
  weights are the explanation: `trendbot taste` lists the largest of them.

Why not logistic regression: a few passes of it over 10,000 verdicts take seconds in pure
Python and need tuning; counts take one pass and are what the person can check by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable
from urllib.parse import urlsplit

from trendbot.blockmerge import StoryLine, Unmergeable, in_order, story_lines
from trendbot.models import VERDICTS, StoredItem, Verdict
from trendbot.urls import github_repo

STRENGTH = {"deleted": 1.0, "kept": 1.0, "moved": 1.5, "annotated": 2.0}
PSEUDO = 2.0        # smoothing: a feature's counts start as this many verdicts at the person's yes rate
MIN_SEEN = 2.0      # a feature explained by `trendbot taste` has at least this much weight of verdicts
ACCOUNT_KINDS = ("x", "bluesky")

_WORD = re.compile(r"[a-z0-9]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
_LINK_TEXT = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(")
STOPWORDS = frozenset("""
a an the of for and or in on with to via from by is are at as its it our we into towards toward using
based be can do does not no vs this that than their your you how what why when new more all one two
""".split())


# -- verdicts ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineVerdict:
    """What the person did with one of base's story lines; `line` is their line when annotated."""

    story: str
    verdict: str
    line: str | None = None


def _filled(lines: Iterable[str]) -> list[str]:
    return [line.rstrip() for line in lines if line.strip()]


def _unchanged(base: str, mine: str) -> bool:
    """The same text, blank lines around it and trailing spaces aside (an editor's doing)."""
    def lines(text: str) -> list[str]:
        return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n").split("\n")

    return lines(base) == lines(mine)


def read_verdicts(base: str, mine: str | None) -> list[LineVerdict]:
    """One verdict per story line trendbot wrote (`base`) from the block as the person left it
    (`mine`, None when the block is gone from the post): none at all for a block that is gone,
    untouched, emptied of stories, or unreadable."""
    if mine is None or _unchanged(base, mine):
        return []
    try:
        old, now = story_lines(base), story_lines(mine, base)
    except Unmergeable:
        return []
    if not now:
        return []
    before: dict[str, StoryLine] = {}
    for line in old:
        before.setdefault(line.key[0], line)  # a story is its address; a copy of a line says no more
    after: dict[str, StoryLine] = {}
    for line in now:
        if line.key[0] in before:
            after.setdefault(line.key[0], line)
    common = list(after)
    base_rank = {key: i for i, key in enumerate(key for key in before if key in after)}
    kept_order = in_order(common, [key for key in before if key in after])
    found = []
    for key, written in before.items():
        left = after.get(key)
        if left is None:
            found.append(LineVerdict(key, "deleted"))
        elif _changed(written, left):
            found.append(LineVerdict(key, "annotated", left.line.rstrip()))
        elif key not in kept_order and common.index(key) < base_rank[key]:
            found.append(LineVerdict(key, "moved"))
        else:
            found.append(LineVerdict(key, "kept"))
    return found


def _changed(written: StoryLine, left: StoryLine) -> bool:
    """The person rewrote the line or wrote something under it."""
    return left.line.rstrip() != written.line.rstrip() or _filled(left.extra) != _filled(written.extra)


def person_title(line: str | None) -> str | None:
    """The link text of the person's line, as they wrote it (markdown), or None without a link."""
    match = _LINK_TEXT.search(line or "")
    return match.group(1) if match and match.group(1).strip() else None


def line_titles(block: str) -> dict[str, str]:
    """The link text of each story line of a block trendbot wrote, by the line's address."""
    try:
        return {line.key[0]: person_title(line.line) or "" for line in story_lines(block)}
    except Unmergeable:
        return {}


def verdict_rank(verdict: Verdict) -> tuple[int, date]:
    """How much a verdict says: annotated, moved, kept, deleted; the latest day among equals."""
    return VERDICTS.index(verdict.verdict), verdict.day


def strongest(verdicts: Iterable[Verdict]) -> dict[str, Verdict]:
    """Per story, the verdict that says most (`verdict_rank`): a story kept on one day and
    deleted on another was kept."""
    best: dict[str, Verdict] = {}
    for verdict in verdicts:
        known = best.get(verdict.story)
        if known is None or verdict_rank(verdict) >= verdict_rank(known):
            best[verdict.story] = verdict
    return best


# -- features ----------------------------------------------------------------------------------

def title_features(title: str) -> list[str]:
    """English words, lower-cased (`w:agent`), and Korean character bigrams (`ko:언어`; a
    one-syllable word as itself)."""
    text = title.lower()
    words = [f"w:{word}" for word in _WORD.findall(text)
             if len(word) > 1 and word not in STOPWORDS and not word.isdigit()]
    for run in _HANGUL.findall(text):
        words += [f"ko:{run}"] if len(run) == 1 else [f"ko:{run[i:i + 2]}" for i in range(len(run) - 1)]
    return words


def _site(url: str) -> str | None:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    return host.removeprefix("www.") or None


def story_features(items: Iterable[StoredItem], main_url: str) -> list[str]:
    """The story's features, each once, in a stable order."""
    found: dict[str, None] = {}
    site = _site(main_url)
    if site:
        found[f"site:{site}"] = None
    for item in items:
        for feature in title_features(item.title):
            found[feature] = None
        found[f"src:{item.source}"] = None
        found[f"kind:{item.kind}"] = None
        if item.kind in ACCOUNT_KINDS and item.author:
            found[f"by:{item.author.lower()}"] = None
        for url in [main_url, item.url, *item.links, str(item.extra.get("githubRepo") or "")]:
            repo = github_repo(url) if url else None
            if repo:
                found[f"gh:{repo.split('/')[0].lower()}"] = None
        keywords = item.extra.get("ai_keywords")
        for keyword in keywords if isinstance(keywords, list) else []:
            if isinstance(keyword, str) and keyword.strip():
                found[f"kw:{' '.join(keyword.lower().split())}"] = None
                for feature in title_features(keyword):  # "robotic manipulation" also says "manipulation"
                    found[feature] = None
    return list(found)


# -- the model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Weight:
    """A feature's weight and the verdicts behind it (strength-weighted yes and no)."""

    feature: str
    weight: float
    yes: float
    no: float


class Taste:
    """Feature weights learned from verdicts; `score` is a story's taste in (-1, 1)."""

    def __init__(self, weights: dict[str, Weight], verdicts: int = 0):
        self.weights = weights
        self.verdicts = verdicts

    @property
    def empty(self) -> bool:
        return not self.weights

    def score(self, features: Iterable[str]) -> float:
        known = [self.weights[f].weight for f in features if f in self.weights]
        if not known:
            return 0.0
        return math.tanh(sum(known) / math.sqrt(len(known)))

    def explain(self, count: int = 10) -> tuple[list[Weight], list[Weight]]:
        """The features that most raise a story and those that most lower it."""
        seen = [w for w in self.weights.values() if w.yes + w.no >= MIN_SEEN and w.weight]
        raising = sorted((w for w in seen if w.weight > 0), key=lambda w: (-w.weight, w.feature))
        lowering = sorted((w for w in seen if w.weight < 0), key=lambda w: (w.weight, w.feature))
        return raising[:count], lowering[:count]


def learn(verdicts: Iterable[Verdict]) -> Taste:
    """The model of the person's taste from their verdicts (one pass; see the module's docstring)."""
    yes_of: dict[str, float] = {}
    no_of: dict[str, float] = {}
    yes = no = 0.0
    count = 0
    for verdict in verdicts:
        strength = STRENGTH.get(verdict.verdict)
        if strength is None:
            continue
        count += 1
        counts = no_of if verdict.verdict == "deleted" else yes_of
        if verdict.verdict == "deleted":
            no += strength
        else:
            yes += strength
        for feature in verdict.features:
            counts[feature] = counts.get(feature, 0.0) + strength
    if not yes or not no:
        return Taste({}, count)
    rate = yes / (yes + no)
    prior = math.log(rate / (1 - rate))
    weights = {}
    for feature in yes_of.keys() | no_of.keys():
        y, n = yes_of.get(feature, 0.0), no_of.get(feature, 0.0)
        weight = math.log((y + PSEUDO * rate) / (n + PSEUDO * (1 - rate))) - prior
        weights[feature] = Weight(feature, weight, y, n)
    return Taste(weights, count)
