"""One line of summary per story: extractive (offline, the default) or from a language model.

`extractive` takes what the sources already say: Hugging Face's `ai_summary` when there is
one, else the first sentence of the text, cleaned and cut at a word boundary (Korean and
English alike). `openai` asks any OpenAI-compatible `/chat/completions` endpoint (OpenAI,
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


def extractive_summary(items: list[StoredItem], limit: int) -> str:
    """The source's own one-liner (HF `ai_summary`), else the first sentence of the text; never
    one that only repeats the lead's title. A whole sentence when it fits in `limit`, else cut
    at a word boundary."""
    title = items[0].title if items else ""
    candidates = [item.summary or item.extra.get("ai_summary") for item in items]
    candidates += [item.text for item in items]
    for candidate in candidates:
        line = first_sentence(_plain(candidate if isinstance(candidate, str) else None), limit)
        if line and not repeats(title, line):
            return line
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
