"""One line of summary per story: extractive (offline, the default) or from a language model.

`extractive` takes what the sources already say: Hugging Face's `ai_summary` when there is
one, else the first sentence of the text that says what the thing is or does, cleaned and cut at
a word boundary (Korean and English alike). Real texts often open with boilerplate (`Accepted at
ICML 2026.`, `Code: https://…`, `안녕하세요.`, a heading like `현시점의 문제`): a venue note, a
link with only a label, a greeting and a heading (a few words without a verb-like word) are
passed over, and when nothing is left the story has no summary rather than filler. `openai` asks
any OpenAI-compatible `/chat/completions` endpoint (OpenAI,
Ollama, vLLM, llama.cpp server) for one plain Korean sentence. Its answers are cached in the
store by a hash of (prompt version, model, language, input text), so a re-run sends nothing;
the summarizer reads the cache it is handed and leaves what it wrote for its caller to store.
Any failure — no answer, an HTTP error, a timeout, an answer that is not one sentence in the
wanted language — falls back to the extractive line for that story: the digest always renders.
The API key is read from the environment variable the config names and never written anywhere.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from typing import TYPE_CHECKING, Any, Iterable

from trendbot import __version__
from trendbot.config import SummarizerConfig
from trendbot.markup import strip_html
from trendbot.models import StoredItem, canonical_json, short_hash
from trendbot.text import clean, cut, first_sentence

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("trendbot.summarize")

PROMPT_VERSION = "ko-line-1"
INPUT_CHARS = 1500
MAX_ANSWER = 1_000_000  # bytes of one answer that are read; a longer one is not a sentence
LANGUAGE_NAMES = {"ko": "한국어", "en": "English", "ja": "日本語"}
SYSTEM_PROMPT = (
    "You write one-line comments for a Korean ML engineer's daily trend list in a blog. "
    "Given a story (title and text), answer with exactly one short sentence in {language} that says "
    "what it is about, in a plain, neutral note style (for Korean, end like '…을 제안함.' or '…임.'). "
    "No markdown, no quotes, no links, no preamble."
)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_WORD = re.compile(r"\w+")
_WRAPPERS = "\"'`“”‘’「」*_ "


def _plain(value: str | None) -> str:
    """A source's own summary or text as plain text (some carry HTML: `<p>`, `<ul><li>`)."""
    if not value:
        return ""
    return strip_html(value) if "<" in value or "&" in value else clean(value)


def repeats(title: str, summary: str) -> bool:
    """Whether a summary says no more than the title (`Title — Title.`): then it is no summary."""
    def words(text: str) -> str:
        return " ".join(_WORD.findall(text.casefold()))

    said, named = words(summary), words(title)
    return not said or said == named or (named.startswith(said) and len(said) >= 0.6 * len(named))


# -- which sentence says something ------------------------------------------------------------
#
# A text is cut into pieces: sentences (text.first_sentence), and before each, what a sentence end
# does not separate: a greeting (`Hi HN,`, `안녕하세요,`), a label and a link (`Code: https://…`),
# and a line the source already gave on its own (GeekNews's first line, a heading). A piece says
# nothing when it is a venue note, a link with at most a few words around it, a greeting, or a
# heading: a few words without a verb-like word. Each test is one small rule, so a wrong call is
# easy to see and to change.

_URL_PATTERN = r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|io|ai|net|dev|app|page)(?:/\S*)?"
_URL = re.compile(_URL_PATTERN, re.IGNORECASE)
_LEADING_LINK = re.compile(rf"(?:[^\s:]{{1,24}}(?: [^\s:]{{1,24}}){{0,3}} ?: ?)?(?:{_URL_PATTERN})\s*", re.IGNORECASE)
_GREETING = r"(?:안녕하세요|안녕하십니까|반갑습니다|hi|hello|hey|greetings|dear|good (?:morning|afternoon|evening))"
_LEADING_GREETING = re.compile(_GREETING + r"(?![\w])[^,.!?~\n]{0,30}?[,.!?~]+\s*", re.IGNORECASE)
_VENUES = ("NeurIPS|NIPS|ICML|ICLR|CVPR|ICCV|ECCV|WACV|BMVC|ACL|EMNLP|NAACL|EACL|COLING|COLM|AAAI|IJCAI|KDD|"
           "WWW|SIGIR|SIGGRAPH|CHI|UAI|AISTATS|CoRL|RSS|ICRA|IROS|TMLR|JMLR|TPAMI|MICCAI|INTERSPEECH|ICASSP|3DV")
_STARTS_WITH_VENUE = re.compile(rf"\W*(?:{_VENUES})\b")
_VENUE_WORD = re.compile(r"\W*(?:(?:this|the|our) (?:paper|work|article|manuscript) (?:has been|have been|was|is|will be) )?"
                         r"(?:accepted|to appear|appearing|published|presented|camera[- ]ready|in submission|"
                         r"under review|submitted)\b", re.IGNORECASE)
_VENUE_CONTEXT = re.compile(rf"\b(?:{_VENUES})\b|\b(?:19|20)\d\d\b|\b(?:conference|workshop|journal|track|"
                            r"proceedings|symposium|findings)\b", re.IGNORECASE)
HEADING_WORDS = 4
_ANY_WORD = re.compile(r"\w")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
_AUXILIARIES = frozenset("is are was were be been being am has have had do does did can could will would may might "
                         "must shall should".split())
_SUBJECTS = frozenset("we i they you he she it".split())
# Korean predicates: a sentence end (…다, …요, …함, …됨, …임, …음) or a verb's other forms (…한 X,
# …하는 X, …해, …하며); a headline fragment (`현시점의 문제`, `Claude Sonnet 5.5 출시`) has none.
_KOREAN_PREDICATE = re.compile(r"(?:다|요|죠|까|네|함|됨|임|음|짐|옴|봄|줌|씀|한|된|던|는|할|될|해|하여|되어|하며|하고|지만|면서)$")
_KOREAN_NOUNS_LIKE_PREDICATES = frozenset({"게임", "다음", "처음", "마음", "소음"})


def pieces(text: str, known: Iterable[str] = ()) -> list[str]:
    """`text` (plain) in pieces, in order: sentences, and before each, a greeting, a label with its
    link, or one of the `known` lines the text starts with. Nothing of the text is dropped."""
    rest = clean(text)
    known = [line for line in (clean(line) for line in known) if line]
    found: list[str] = []
    while rest:
        match = _LEADING_GREETING.match(rest) or _LEADING_LINK.match(rest)
        line = next((line for line in known if rest.startswith(line)), None)
        piece = match.group().strip() if match else line or first_sentence(rest, len(rest) + 1)
        found.append(piece)
        rest = rest[len(piece):].lstrip()
    return found


def is_greeting(piece: str) -> bool:
    match = _LEADING_GREETING.match(piece + " ")
    return bool(match) and match.end() >= len(piece)


def is_venue_note(piece: str) -> bool:
    """`Accepted at ICML 2026.`, `To appear in ACL 2025.`, `NeurIPS 2025 (Spotlight).`"""
    if _STARTS_WITH_VENUE.match(piece):
        return True
    return bool(_VENUE_WORD.match(piece)) and bool(_VENUE_CONTEXT.search(piece))


def is_link_only(piece: str) -> bool:
    """A link with at most a label around it: `Code: https://…`, `Project page: https://…`."""
    if not _URL.search(piece):
        return False
    return len(_LATIN_WORD.findall(_URL.sub(" ", piece))) + len(_HANGUL_WORD.findall(piece)) <= 4


def has_verb_like_word(piece: str) -> bool:
    """Korean: a word with a predicate's ending. English: a form of be/have/do or a modal, a subject
    pronoun before another word, or a word but the last ending in -ed, -ing or -s (not an acronym's
    plural like `LLMs`)."""
    korean = _HANGUL_WORD.findall(piece)
    if korean:
        return any(_KOREAN_PREDICATE.search(word) and word not in _KOREAN_NOUNS_LIKE_PREDICATES for word in korean)
    words = _LATIN_WORD.findall(_URL.sub(" ", piece))
    lowered = [word.lower() for word in words]
    if any(word in _AUXILIARIES for word in lowered):
        return True
    if any(word in _SUBJECTS for word in lowered[:-1]):
        return True
    return any(len(word) >= 4 and (word.lower().endswith(("ed", "ing")) or (word[1:].islower() and word.endswith("s")))
               for word in words[:-1])


def is_heading(piece: str) -> bool:
    """A few words without a verb-like word: `현시점의 문제`, `Claude Sonnet 5.5 출시`, `Work in progress.`
    A longer phrase without one still describes its thing (`Incredibly fast JavaScript runtime,
    bundler, test runner, and package manager`, as GitHub descriptions are written)."""
    words = [word for word in _URL.sub(" ", piece).split() if _ANY_WORD.search(word)]
    return len(words) <= HEADING_WORDS and not has_verb_like_word(piece)


def says_something(piece: str) -> bool:
    """Whether a piece can be a story's summary: not a greeting, a venue note, a bare link or a heading."""
    return not (is_greeting(piece) or is_venue_note(piece) or is_link_only(piece) or is_heading(piece))


def extractive_summary(items: list[StoredItem], limit: int) -> str:
    """The first piece that says something of the source's own one-liner (HF `ai_summary`), then of
    the text; never one that only repeats the lead's title, and none rather than filler. A whole
    sentence when it fits in `limit`, else cut at a word boundary."""
    title = items[0].title if items else ""
    candidates = [item.summary or item.extra.get("ai_summary") for item in items]
    candidates += [item.text for item in items]
    seen: list[str] = []
    for candidate in candidates:
        text = _plain(candidate if isinstance(candidate, str) else None)
        for piece in pieces(text, seen):
            if says_something(piece) and not repeats(title, piece):
                return cut(piece, limit)
        seen.append(text)
    return ""


def story_input(items: list[StoredItem]) -> str:
    """What the model reads: each mention's title and text, lead first, bounded."""
    parts = []
    for item in items:
        text = _plain(item.summary or item.text)
        parts.append(f"[{item.source}] {clean(item.title)}" + (f"\n{text}" if text else ""))
    return cut("\n\n".join(parts), INPUT_CHARS)


def cache_key(model: str, language: str, text: str) -> str:
    return PROMPT_VERSION + ":" + short_hash(canonical_json([PROMPT_VERSION, model, language, text]))


def sentence_from_answer(data: Any, language: str, limit: int) -> str | None:
    """The one sentence in a chat-completions answer, or None when the answer is unusable."""
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(content, str):
        return None
    lines = [clean(line).strip(_WRAPPERS) for line in content.splitlines()]
    lines = [line.lstrip("-•> ").strip(_WRAPPERS) for line in lines if line]
    if not lines or len(lines[0]) < 8:
        return None
    line = lines[0]
    if language == "ko" and not _HANGUL.search(line):
        return None
    return cut(line, limit)


class Summarizer:
    """Summaries for the stories of one digest, using the configured summarizer.

    It reads the cache it is given and never writes anywhere: what a model wrote is left in
    `written` for the caller to store. `offline` (a dry run) sends nothing and uses the cache.
    """

    def __init__(self, config: SummarizerConfig, cached: dict[str, str] | None = None, *, offline: bool = False,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self.cached = dict(cached or {})
        self.offline = offline
        self.transport = transport
        self.warnings: list[str] = []
        self.written: dict[str, tuple[str, str, str]] = {}  # cache key -> (model, prompt version, summary)
        self._broken: str | None = None

    def keys(self, stories: Iterable[list[StoredItem]]) -> list[str]:
        """The cache keys this summarizer would ask for (to read the cache in one query)."""
        if self.config.kind != "openai":
            return []
        return [cache_key(self.config.model, self.config.language, story_input(items))
                for items in list(stories)[: self.config.max_stories]]

    def summarize(self, stories: Iterable[list[StoredItem]]) -> list[str]:
        """One line per story (each a list of items, lead first), in the same order."""
        stories = list(stories)
        lines = [extractive_summary(items, self.config.max_chars) for items in stories]
        if self.config.kind != "openai":
            return lines
        texts = [story_input(items) for items in stories[: self.config.max_stories]]
        headers = None if self.offline else self._headers()
        if headers is None:
            asked = [self.cached.get(cache_key(self.config.model, self.config.language, text)) for text in texts]
        else:
            asked = asyncio.run(self._ask_all(headers, texts))
        for n, written in enumerate(asked):
            if written:
                lines[n] = written
        return lines

    async def _ask_all(self, headers: dict[str, str], texts: list[str]) -> list[str | None]:
        import httpx  # loaded only for a model to ask: the extractive digest starts faster without it

        async with httpx.AsyncClient(timeout=self.config.timeout.total_seconds(), transport=self.transport,
                                     headers=headers) as client:
            return [await self._ask(client, text) for text in texts]

    def _headers(self) -> dict[str, str] | None:
        """Request headers, or None (with a warning) when the API key cannot be sent as is."""
        headers = {"User-Agent": f"trendbot/{__version__}", "Content-Type": "application/json"}
        name = self.config.api_key_env
        key = os.environ.get(name, "").strip() if name else ""
        if key and not (key.isascii() and key.isprintable() and " " not in key):
            # never say the key itself: only where it came from and what is wrong with it
            self._warn(f"${name} holds characters an API key cannot have (non-ASCII, spaces or "
                       "control characters); every story keeps its extractive line")
            return None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    @property
    def endpoint(self) -> str:
        return self.config.base_url.rstrip("/") + "/chat/completions"

    async def _ask(self, client: httpx.AsyncClient, text: str) -> str | None:
        import httpx  # already loaded by _ask_all

        model, language = self.config.model, self.config.language
        key = cache_key(model, language, text)
        if key in self.cached:
            return self.cached[key]
        if self._broken:
            return None
        payload = {
            "model": model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT.format(language=LANGUAGE_NAMES.get(language, language))},
                {"role": "user", "content": text},
            ],
            "temperature": 0.2,
            "max_tokens": 200,
        }
        limit = self.config.timeout.total_seconds()
        try:
            # the timeout is the whole answer's deadline: a server dripping bytes cannot hold the digest
            async with asyncio.timeout(limit), client.stream("POST", self.endpoint, json=payload) as response:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER:
                        body = b""
                        break
        except (TimeoutError, httpx.TimeoutException):
            return self._give_up(f"no answer within {limit:g}s")
        except httpx.HTTPError as exc:
            return self._give_up(f"{type(exc).__name__}")
        if response.status_code != 200:
            return self._give_up(f"HTTP {response.status_code}")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        sentence = sentence_from_answer(data, language, self.config.max_chars)
        if sentence is None:
            self._warn("an answer was not one usable sentence; that story keeps its extractive line")
            return None
        self.cached[key] = sentence
        self.written[key] = (model, PROMPT_VERSION, sentence)
        return sentence

    def _give_up(self, reason: str) -> None:
        # the endpoint is down or refusing: stop asking for this digest instead of waiting on it
        self._broken = reason
        self._warn(f"{reason}; the remaining stories keep their extractive lines")
        return None

    def _warn(self, message: str) -> None:
        message = f"summarizer {self.endpoint}: {message}"
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning("%s", message)
